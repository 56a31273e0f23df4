import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/** Whether TCP `port` can be bound on `ip` right now (and UDP too, for gossip ports). */
export async function portFree(ip: string, port: number, udp = false): Promise<boolean> {
  const tcp = await new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, ip, () => s.close(() => resolve(true)));
  });
  if (!tcp || !udp) return tcp;
  return new Promise<boolean>((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => { s.close(); resolve(false); });
    s.bind(port, ip, () => s.close(() => resolve(true)));
  });
}

/**
 * A data port and a gossip port free on `ip`, preferring `preferred` (so every host of a run
 * gets the same ports when it can, which makes logs easier to read). Small race: use them at once.
 */
export async function freePortPair(ip: string, preferred?: { port: number; gossipPort: number }): Promise<{ port: number; gossipPort: number }> {
  if (preferred && await portFree(ip, preferred.port) && await portFree(ip, preferred.gossipPort, true)) return preferred;
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    const gossipPort = port + 1;
    if (await portFree(ip, port) && await portFree(ip, gossipPort, true)) return { port, gossipPort };
  }
  throw new Error(`no free port pair on ${ip} after 100 tries`);
}
