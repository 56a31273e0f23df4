import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Framing around every UDP packet and TCP frame:
 *   plain   [0x01][payload]
 *   signed  [0x02][HMAC-SHA256 (32 bytes)][payload]
 * The MAC covers the version byte, a channel byte and the payload, so a UDP packet cannot be
 * replayed as a TCP frame or the other way round. A node with a key accepts only valid signed
 * envelopes; a node without one accepts only plain ones, so mixed clusters fail closed.
 */
const PLAIN = 0x01;
const SIGNED = 0x02;
const MAC_BYTES = 32;

export type Channel = 'udp' | 'tcp';
const CHANNEL_BYTE: Record<Channel, number> = { udp: 0x55, tcp: 0x54 };

export type OpenResult = { ok: true; payload: Buffer } | { ok: false; reason: 'auth' | 'malformed' };

export class GossipEnvelope {
  private readonly key: Buffer | undefined;

  constructor(clusterKey?: string) {
    this.key = clusterKey === undefined || clusterKey === '' ? undefined : Buffer.from(clusterKey, 'utf8');
  }

  get overheadBytes(): number {
    return this.key ? 1 + MAC_BYTES : 1;
  }

  seal(payload: Buffer, channel: Channel): Buffer {
    if (!this.key) return Buffer.concat([Buffer.of(PLAIN), payload]);
    const mac = this.mac(SIGNED, channel, payload);
    return Buffer.concat([Buffer.of(SIGNED), mac, payload]);
  }

  open(packet: Buffer, channel: Channel): OpenResult {
    const version = packet[0];
    if (version === PLAIN) {
      if (this.key) return { ok: false, reason: 'auth' };
      return { ok: true, payload: packet.subarray(1) };
    }
    if (version === SIGNED) {
      if (!this.key || packet.length < 1 + MAC_BYTES) return { ok: false, reason: 'auth' };
      const payload = packet.subarray(1 + MAC_BYTES);
      const expected = this.mac(SIGNED, channel, payload);
      if (!timingSafeEqual(expected, packet.subarray(1, 1 + MAC_BYTES))) return { ok: false, reason: 'auth' };
      return { ok: true, payload };
    }
    return { ok: false, reason: 'malformed' };
  }

  private mac(version: number, channel: Channel, payload: Buffer): Buffer {
    const key = this.key;
    if (!key) throw new Error('no cluster key');
    return createHmac('sha256', key).update(Buffer.of(version, CHANNEL_BYTE[channel])).update(payload).digest();
  }
}
