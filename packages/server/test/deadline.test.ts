import { CorralError } from '@corral/protocol';
import { RawConnection, startTestNode, type TestNode } from '@corral/test-utils';

/** Writes carry their client's deadline (request meta); one that arrives after it is not applied. */
describe('write deadlines', () => {
  let t: TestNode;
  let c: RawConnection;
  beforeAll(async () => {
    t = await startTestNode({ deadlineGraceMs: 200 });
    c = await RawConnection.connect(t.port, { host: t.host });
  });
  afterAll(async () => { c.close(); await t.stop(); });

  it('refuses a write that arrives past its deadline plus the grace, with E_DEADLINE_PASSED, and leaves the key as it was', async () => {
    await c.call('SET', ['k', Buffer.from('before')]);
    const err = await c.callWithMeta('SET', ['k', Buffer.from('late')], { deadline: Date.now() - 1_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorralError);
    expect(err).toMatchObject({ code: 'E_DEADLINE_PASSED', details: { graceMs: 200 } });
    expect((err as CorralError).details!['lateMs']).toBeGreaterThanOrEqual(1_000);
    expect(Buffer.from((await c.call('GET', ['k']) as [Buffer])[0]).toString()).toBe('before');
    expect(t.node.metrics.stats()['writesPastDeadline']).toBe(1);
    const m = await t.node.metrics.registry.getSingleMetric('corral_writes_past_deadline_total')!.get();
    expect(m.values[0]!.value).toBe(1);
  });

  it('applies a write before its deadline, or late by less than the grace (clock skew)', async () => {
    await c.callWithMeta('SET', ['k', Buffer.from('in time')], { deadline: Date.now() + 1_000 });
    expect(Buffer.from((await c.call('GET', ['k']) as [Buffer])[0]).toString()).toBe('in time');
    await c.callWithMeta('SET', ['k', Buffer.from('skewed')], { deadline: Date.now() - 100 });
    expect(Buffer.from((await c.call('GET', ['k']) as [Buffer])[0]).toString()).toBe('skewed');
  });

  it('treats a deadline that is not an integer >= 0 as a bad frame: that connection closes, others are served', async () => {
    const bad = await RawConnection.connect(t.port, { host: t.host });
    const err = await bad.callWithMeta('SET', ['k', Buffer.from('x')], { deadline: -5 }).catch((e: unknown) => e);
    expect(String(err)).toMatch(/closed/);
    expect(t.node.metrics.stats()['badFrames']).toBe(1);
    expect(Buffer.from((await c.call('GET', ['k']) as [Buffer])[0]).toString()).toBe('skewed');
    bad.close();
  });
});
