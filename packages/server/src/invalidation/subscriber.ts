import type { SubscribeMode } from '@corral/protocol';

/** Where a subscriber's pushes go: the node's connection, seen through what the stream needs of it. */
export interface PushSink {
  readonly id: number;
  /** The HELLO name, for the cut test hook. */
  readonly name: string | undefined;
  push(frame: Buffer): void;
  /** Bytes already written to the socket and not yet sent. */
  outputBytes(): number;
  /** Closes the connection at once (test hook). */
  cut(): void;
}

/**
 * One connection's subscription: what it wants to hear (mode, prefixes), how far along the stream it
 * has been told (`sentUpTo`: every message it is sent starts at sentUpTo + 1, which is how it sees a
 * lost one), and in tracking mode the keys it read or wrote.
 */
export class Subscriber {
  /** Keys read or written on this connection (tracking mode). */
  readonly tracked = new Set<string>();
  /** Keys for the next push (tracking mode, and forgotten keys). */
  pendingKeys: Array<string | null> = [];
  pendingVersions: number[] = [];
  /** The generation of the hot-key set this subscriber was last sent. */
  hotGenSent = -1;

  constructor(
    readonly sink: PushSink,
    readonly mode: SubscribeMode,
    readonly prefixes: readonly string[],
    public sentUpTo: number,
    public lastSentAt: number,
  ) {}

  /** Broadcast mode: is this key one it asked for? */
  wants(key: string): boolean {
    if (this.prefixes.length === 0) return true;
    for (const p of this.prefixes) if (key.startsWith(p)) return true;
    return false;
  }

  takePending(): { keys: Array<string | null>; versions: number[] } {
    const out = { keys: this.pendingKeys, versions: this.pendingVersions };
    this.pendingKeys = [];
    this.pendingVersions = [];
    return out;
  }
}
