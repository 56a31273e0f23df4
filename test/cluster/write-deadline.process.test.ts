import { Corral } from '@corral/client';
import { CorralError } from '@corral/protocol';
import { spawnNodeProcess, type NodeProcess } from '@corral/test-utils';

/**
 * A write held up by a frozen node (SIGSTOP: the kernel still takes its bytes) times out at the
 * client; when the node thaws it must not apply it after the writes made since. The client puts
 * its deadline on the write; the node refuses it as E_DEADLINE_PASSED. Real process, real socket.
 */
let node: NodeProcess | undefined;
afterEach(async () => {
  node?.kill('SIGCONT');
  node?.kill('SIGKILL');
  await node?.exited;
  node = undefined;
});

test('a write the client timed out on while the node was frozen is not applied when it thaws', async () => {
  node = await spawnNodeProcess(['--deadline-grace', '100ms']);
  const seed = `${node.host}:${node.port}`;
  const c = await Corral.connect({ seeds: [seed], timeoutMs: 300 });
  const reader = await Corral.connect({ seeds: [seed], timeoutMs: 2_000 });
  try {
    await c.set('account', 'acknowledged');
    node.kill('SIGSTOP');
    const err = await c.set('account', 'timed out').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorralError);
    expect((err as CorralError).code).toBe('E_TIMEOUT');
    await new Promise((r) => setTimeout(r, 700)); // frozen past the deadline and the grace
    node.kill('SIGCONT');
    // The caller was told the write failed, so the value is still the acknowledged one.
    expect(await reader.get('account')).toBe('acknowledged');
    const stats = await reader.stats();
    expect(stats['writesPastDeadline']).toBe(1);
    // The connection itself is fine: the next write lands.
    await c.set('account', 'after the thaw');
    expect(await reader.get('account')).toBe('after the thaw');
  } finally {
    await c.close();
    await reader.close();
  }
});
