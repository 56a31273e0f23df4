import { connect, type Socket } from 'node:net';
import { startTestNode, type TestNode } from '@corral/test-utils';

/**
 * The RESP door bounds what a client that does not read can make the node buffer, as the native
 * listener does: past the soft limit it stops reading the client's commands, and a client that
 * stays paused without reading is dropped; other clients are served throughout.
 */
describe('RESP door output backpressure', () => {
  let t: TestNode;
  beforeAll(async () => {
    t = await startTestNode({ respPort: 0, outputBufferSoftBytes: 1 << 20, outputBufferHardBytes: 64 << 20, outputBufferPauseMs: 500 });
  });
  afterAll(async () => { await t.stop(); });

  function open(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: t.host, port: t.node.respPort! }, () => resolve(s));
      s.once('error', reject);
    });
  }

  async function ask(s: Socket, cmd: string): Promise<string> {
    const reply = new Promise<string>((resolve) => s.once('data', (d: Buffer) => resolve(d.toString())));
    s.write(cmd);
    return reply;
  }

  const opCount = async (op: string): Promise<number> => {
    const m = await t.node.metrics.registry.getSingleMetric('corral_ops_total')!.get();
    return m.values.filter((x) => x.labels['op'] === op).reduce((a, x) => a + x.value, 0);
  };

  it('stops reading a client past the soft limit, drops it once it has read nothing for the pause, serves others', async () => {
    const setter = await open();
    const big = 'v'.repeat(256 * 1024);
    expect(await ask(setter, `*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$${big.length}\r\n${big}\r\n`)).toBe('+OK\r\n');
    const getsBefore = await opCount('GET');
    const droppedBefore = t.node.metrics.stats()['droppedConnections']!;

    const slow = await open();
    slow.pause(); // reads nothing
    const closed = new Promise<void>((r) => slow.once('close', () => r()));
    slow.on('error', () => undefined);
    const count = 2000; // 512 MiB of replies if the node executed them all
    slow.write('GET big\r\n'.repeat(count));

    await new Promise((r) => setTimeout(r, 200));
    expect(await ask(setter, 'PING\r\n')).toBe('+PONG\r\n'); // others are served meanwhile
    for (let i = 0; i < 60 && t.node.metrics.stats()['droppedConnections'] === droppedBefore; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(t.node.metrics.stats()['droppedConnections']).toBe(droppedBefore + 1);
    const executed = (await opCount('GET')) - getsBefore;
    // What the kernel buffers hold plus one soft limit's worth, not the whole pipeline.
    expect(executed).toBeGreaterThan(0);
    expect(executed).toBeLessThan(count / 10);
    const dropped = await t.node.metrics.registry.getSingleMetric('corral_dropped_connections_total')!.get();
    expect(dropped.values.find((x) => x.labels['reason'] === 'output_buffer_stalled')?.value).toBeGreaterThanOrEqual(1);
    slow.resume();
    await closed;
    expect(await ask(setter, 'PING\r\n')).toBe('+PONG\r\n');
    setter.destroy();
  });
});
