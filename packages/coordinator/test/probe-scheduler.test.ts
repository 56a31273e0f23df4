import { systemClock, type Member } from '../src';
import { AckTable } from '../src/ack-table';
import { ProbeScheduler, type ProbeHost } from '../src/probe-scheduler';
import { createStats } from '../src/stats';

const member = (id: string): Member => ({ id, gossipAddr: `${id}:1`, state: 'alive', incarnation: 0, meta: {}, stateChangedAt: 0 });
const timings = { protocolPeriodMs: 1000, probeTimeoutMs: 400, indirectProbes: 2 };

function harness(answer: (kind: 'ping' | 'ping-req', to: string, seq: number) => boolean) {
  const acks = new AckTable(systemClock, 100);
  const log: string[] = [];
  const failed: string[] = [];
  const host: ProbeHost = {
    liveOthers: () => ['b', 'c', 'd', 'e'].map(member),
    sendPing: (to, seq) => {
      log.push(`ping ${to.id}`);
      if (answer('ping', to.id, seq)) setTimeout(() => acks.resolve(seq), 10);
    },
    sendPingReq: (via, target, seq) => {
      log.push(`ping-req ${via.id}->${target.id}`);
      if (answer('ping-req', via.id, seq)) setTimeout(() => acks.resolve(seq), 10);
    },
    onProbeFailed: (target) => failed.push(target.id),
  };
  const stats = createStats();
  const scheduler = new ProbeScheduler(host, acks, systemClock, timings, stats, () => 0);
  return { scheduler, log, failed, stats };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('an answered ping is a successful probe, one member per period', () => {
  const h = harness(() => true);
  h.scheduler.start(); // random() = 0: the first tick is immediate
  jest.advanceTimersByTime(4 * timings.protocolPeriodMs - 1);
  h.scheduler.stop();
  expect(h.log.filter((l) => l.startsWith('ping '))).toHaveLength(4);
  expect([...new Set(h.log)].sort()).toEqual(['ping b', 'ping c', 'ping d', 'ping e']);
  expect(h.failed).toEqual([]);
  expect(h.stats.probes).toBe(4);
});

test('no ack within probeTimeoutMs → k ping-reqs; an indirect ack saves the target', () => {
  const h = harness((kind) => kind === 'ping-req');
  h.scheduler.tick();
  expect(h.log).toHaveLength(1);
  jest.advanceTimersByTime(timings.probeTimeoutMs - 1);
  expect(h.log).toHaveLength(1);
  jest.advanceTimersByTime(1);
  expect(h.log.filter((l) => l.startsWith('ping-req'))).toHaveLength(2);
  jest.advanceTimersByTime(timings.protocolPeriodMs);
  h.scheduler.tick();
  expect(h.failed).toEqual([]);
  expect(h.stats.indirectProbes).toBe(2);
});

test('no ack at all by the end of the period → probe failure (suspect)', () => {
  const h = harness(() => false);
  h.scheduler.tick();
  const target = h.log[0]?.slice('ping '.length);
  jest.advanceTimersByTime(timings.protocolPeriodMs);
  expect(h.failed).toEqual([]); // judged when the next period starts
  h.scheduler.tick();
  expect(h.failed).toEqual([target]);
  expect(h.stats.probeFailures).toBe(1);
  h.scheduler.stop();
});

test('an aborted probe is not judged', () => {
  const h = harness(() => false);
  h.scheduler.tick();
  h.scheduler.abortInFlight();
  jest.advanceTimersByTime(timings.protocolPeriodMs);
  h.scheduler.tick();
  h.scheduler.stop();
  expect(h.failed).toEqual([]);
  expect(h.log.filter((l) => l.startsWith('ping-req'))).toHaveLength(0);
});
