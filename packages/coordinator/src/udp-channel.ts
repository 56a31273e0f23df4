import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import type { HostPort } from './address';
import type { GossipEnvelope } from './gossip-envelope';
import { decodeMessage, encodeMessage } from './message-codec';
import type { Message, ProbeMessage } from './messages';
import type { MembershipStats } from './stats';

export interface UdpChannelOptions {
  envelope: GossipEnvelope;
  maxPacketBytes: number;
  maxMembers: number;
  stats: MembershipStats;
  logger: Logger;
  onMessage: (msg: ProbeMessage, from: HostPort) => void;
}

/**
 * The gossip datagram socket. Everything that arrives is untrusted: size, envelope and shape are
 * checked in that order, failures are counted and dropped, and nothing thrown while handling a
 * packet escapes the socket's event handler.
 */
export class UdpChannel {
  private socket: Socket | undefined;
  /** Test hook: a frozen channel drops everything in both directions. */
  frozen = false;

  constructor(private readonly opts: UdpChannelOptions) {}

  async bind(host: string, port: number): Promise<number> {
    const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', (err) => this.opts.logger.warn({ err }, 'gossip udp socket error'));
    socket.on('message', (buf, rinfo) => this.receive(buf, rinfo));
    this.socket = socket;
    return socket.address().port;
  }

  send(msg: ProbeMessage, to: HostPort): void {
    const { stats, logger } = this.opts;
    if (!this.socket) return;
    if (this.frozen) {
      stats.dropped++;
      return;
    }
    const packet = this.opts.envelope.seal(encodeMessage(msg), 'udp');
    if (packet.length > this.opts.maxPacketBytes) {
      // The packet builder budgets for this; reaching here is a bug, not a peer's fault.
      logger.error({ bytes: packet.length, type: msg.type }, 'gossip packet over maxPacketBytes not sent');
      return;
    }
    stats.packetsOut++;
    stats.bytesOut += packet.length;
    this.socket.send(packet, to.port, to.host, (err) => {
      if (err) logger.debug({ err, to }, 'gossip udp send failed');
    });
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return;
    await new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  private receive(buf: Buffer, rinfo: RemoteInfo): void {
    const { stats, logger } = this.opts;
    try {
      if (this.frozen) {
        stats.dropped++;
        return;
      }
      stats.packetsIn++;
      stats.bytesIn += buf.length;
      if (buf.length > this.opts.maxPacketBytes) {
        stats.oversized++;
        return;
      }
      const opened = this.opts.envelope.open(buf, 'udp');
      if (!opened.ok) {
        if (opened.reason === 'auth') stats.authFailures++;
        else stats.malformed++;
        return;
      }
      let msg: Message;
      try {
        msg = decodeMessage(opened.payload, { maxMembers: this.opts.maxMembers });
      } catch {
        stats.malformed++;
        return;
      }
      if (msg.type === 'push-pull') {
        stats.malformed++;
        return;
      }
      this.opts.onMessage(msg, { host: rinfo.address, port: rinfo.port });
    } catch (err) {
      logger.error({ err }, 'gossip packet handler failed');
    }
  }
}
