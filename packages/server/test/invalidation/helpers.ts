import { FrameDecoder, type InvalidationMessage } from '@corral/protocol';
import { InvalidationLog } from '../../src/invalidation/invalidation-log';
import { InvalidationStream } from '../../src/invalidation/invalidation-stream';
import type { PushSink } from '../../src/invalidation/subscriber';

/** A connection stand-in that decodes what it is pushed. */
export class FakeSink implements PushSink {
  readonly got: Array<{ kind: number; body: InvalidationMessage }> = [];
  backlog = 0;
  cuts = 0;
  private readonly decoder = new FrameDecoder(1 << 24);
  constructor(readonly id: number, readonly name: string | undefined = undefined) {}
  push(frame: Buffer): void {
    for (const f of this.decoder.push(frame).frames) if (f.kind === 3) this.got.push({ kind: f.push, body: f.body as InvalidationMessage });
  }
  outputBytes(): number { return this.backlog; }
  cut(): void { this.cuts++; }
  take(): Array<{ kind: number; body: InvalidationMessage }> { return this.got.splice(0); }
}

/** A stream whose batches are delivered when the test says (no setImmediate). */
export function manualStream(logEntries = 1000): { stream: InvalidationStream; tick: () => void } {
  const pending: Array<() => void> = [];
  const stream = new InvalidationStream(new InvalidationLog(logEntries, 1 << 24), { epoch: 77, schedule: (fn) => pending.push(fn) });
  return { stream, tick: () => { for (const fn of pending.splice(0)) fn(); } };
}
