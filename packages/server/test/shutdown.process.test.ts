import { encodeRequest, Ops, type Frame } from '@corral/protocol';
import { RawConnection, spawnNodeProcess } from '@corral/test-utils';

/** SIGTERM on a real node process. Runs the built dist/ code through `corral node start` (`npx tsc -b`). */
describe('graceful shutdown of a node process', () => {
  test('requests in flight when SIGTERM arrives are all answered, and the exit code is 0', async () => {
    const proc = await spawnNodeProcess(['--shutdown-grace', '10s']);
    try {
      const conn = await RawConnection.connect(proc.port);
      const n = 5000;
      const value = Buffer.alloc(512, 1);
      const frames = Array.from({ length: n }, (_, i) =>
        i % 2 === 0 ? encodeRequest(i + 1, Ops.SET.code, [`k${i}`, value]) : encodeRequest(i + 1, Ops.GET.code, [`k${i - 1}`]));
      conn.sendRaw(Buffer.concat(frames));
      expect(proc.kill('SIGTERM')).toBe(true); // before a single reply was read
      const exit = await proc.exited;
      await conn.waitForClose(5_000);
      const replies = conn.frames.filter((f): f is Frame & { kind: 1; id: number; result: unknown } => f.kind === 1);
      expect(conn.frames.filter((f) => f.kind === 2)).toEqual([]);
      expect(replies.map((r) => r.id)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      // Every GET saw the SET pipelined just before it: the work was done, not merely acknowledged.
      expect(replies[1]!.result).toEqual([value, 0]);
      expect(replies[n - 1]!.result).toEqual([value, 0]);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(proc.stdoutLines.some((l) => l.includes('"node_stopped"'))).toBe(true);
    } finally {
      proc.kill('SIGKILL');
    }
  });

  test('an idle connection does not hold up the exit', async () => {
    const proc = await spawnNodeProcess(['--shutdown-grace', '20s']);
    try {
      const conn = await RawConnection.connect(proc.port);
      expect(await conn.call('PING')).toBe('PONG');
      const started = Date.now();
      proc.kill('SIGINT');
      expect(await proc.exited).toEqual({ code: 0, signal: null });
      expect(Date.now() - started).toBeLessThan(5_000);
      await conn.waitForClose(2_000);
    } finally {
      proc.kill('SIGKILL');
    }
  });
});
