import { createServer } from 'node:net';
import type { NodeConfig } from '@corral/server';
import { startTestNode, type TestNode } from './test-node';
import { spawnNodeProcess, type NodeProcess, type SpawnNodeOptions } from './node-process';

/** Loopback aliases: Linux routes all of 127.0.0.0/8 to lo, so each node gets its own "host". */
export const loopbackHost = (i: number): string => `127.0.0.${i + 2}`;

/**
 * n in-process nodes on 127.0.0.2, 127.0.0.3, … each knowing the others as static peers (the
 * ring is the same on every node). Ports are picked by the OS, then the member table is set.
 */
export async function startTestCluster(n: number, config: Partial<NodeConfig> = {}): Promise<TestCluster> {
  const nodes: TestNode[] = [];
  for (let i = 0; i < n; i++) nodes.push(await startTestNode({ ...config, host: loopbackHost(i) }));
  const members = nodes.map((t) => ({ id: `${t.host}:${t.port}`, state: 'alive' as const, incarnation: 0 }));
  for (const t of nodes) t.node.setMembers(members);
  return {
    nodes,
    seeds: members.map((m) => m.id),
    stop: async () => { await Promise.all(nodes.map((t) => t.stop())); },
  };
}

export interface TestCluster {
  nodes: TestNode[];
  seeds: string[];
  stop(): Promise<void>;
}

/** A port that is free on every given host right now (small race: use it at once). */
export async function freePortOn(hosts: string[]): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    const ok = await Promise.all(hosts.map((h) => new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, h, () => s.close(() => resolve(true)));
    })));
    if (ok.every(Boolean)) return port;
  }
  throw new Error(`no port free on ${hosts.join(', ')} after 50 tries`);
}

export interface ProcessCluster {
  nodes: NodeProcess[];
  seeds: string[];
  /** Starts node i again on its address (after a kill). */
  restart(i: number): Promise<NodeProcess>;
  stop(): Promise<void>;
}

/**
 * n real node processes on 127.0.0.2…, all on one port (each alias is its own host), with
 * `--peers` listing every member, so a killed node can come back on the same address.
 */
export async function spawnProcessCluster(n: number, args: string[] = [], opts: SpawnNodeOptions = {}): Promise<ProcessCluster> {
  const hosts = Array.from({ length: n }, (_x, i) => loopbackHost(i));
  const port = await freePortOn(hosts);
  const seeds = hosts.map((h) => `${h}:${port}`);
  const start = (i: number) => spawnNodeProcess([...args, '--port', String(port), '--peers', seeds.join(',')], { ...opts, host: hosts[i] });
  const nodes = await Promise.all(hosts.map((_h, i) => start(i)));
  return {
    nodes,
    seeds,
    restart: async (i) => (nodes[i] = await start(i)),
    stop: async () => {
      await Promise.all(nodes.map(async (p) => {
        p.kill('SIGTERM');
        const t = setTimeout(() => p.kill('SIGKILL'), 5_000);
        await p.exited;
        clearTimeout(t);
      }));
    },
  };
}
