import { WatermarkTracker, computeWatermark, idleWatermark } from '../../src/window/watermark';

const spec = { allowedLatenessMs: 120_000, idleTimeoutMs: 30_000 };
const NOW = 1_000_000_000;

describe('WatermarkTracker', () => {
  test('min over partitions of the highest event time, minus allowed lateness', () => {
    const w = new WatermarkTracker(spec);
    expect(w.watermark(NOW)).toBeNull();
    w.assign('t', [0, 1], NOW);
    expect(w.watermark(NOW)).toBeNull(); // no event time yet
    w.observe('t', 0, 600_000, NOW);
    w.observe('t', 0, 500_000, NOW); // out of order: the highest counts
    expect(w.watermark(NOW)).toBeNull(); // partition 1 is assigned but has not delivered yet
    w.observe('t', 1, 400_000, NOW);
    expect(w.watermark(NOW)).toBe(400_000 - 120_000);
  });

  test('an idle partition stops holding the watermark back; all idle: the highest one', () => {
    const w = new WatermarkTracker(spec);
    w.observe('t', 0, 600_000, NOW);
    w.observe('t', 1, 400_000, NOW - 30_000); // idle for exactly idleTimeout
    expect(w.watermark(NOW)).toBe(600_000 - 120_000);
    expect(w.watermark(NOW + 29_999)).toBe(600_000 - 120_000);
    expect(w.watermark(NOW + 30_000)).toBe(600_000 - 120_000); // all idle: max
    w.observe('t', 1, 450_000, NOW + 40_000); // active again
    expect(w.watermark(NOW + 40_000)).toBe(450_000 - 120_000);
  });

  test('assignment restarts the idle clock; revoked partitions are removed', () => {
    const w = new WatermarkTracker(spec);
    w.observe('t', 0, 600_000, NOW);
    w.observe('t', 1, 400_000, NOW - 60_000);
    expect(w.watermark(NOW)).toBe(480_000);
    w.assign('t', [1], NOW); // handed over, may have a backlog
    expect(w.watermark(NOW)).toBe(280_000);
    w.revoke('t', [1]);
    expect(w.watermark(NOW)).toBe(480_000);
    expect(w.progress().map((p) => p.partition)).toEqual([0]);
  });

  test('an active partition without event time holds the watermark back; an idle one does not', () => {
    const empty = { topic: 't', partition: 0, lastActiveMs: NOW };
    const busy = { topic: 't', partition: 1, lastActiveMs: NOW, highEventTime: 600_000 };
    expect(computeWatermark([empty], NOW, spec)).toBeNull();
    expect(computeWatermark([empty, busy], NOW, spec)).toBeNull();
    expect(computeWatermark([empty, busy], NOW + 29_999, spec)).toBeNull();
    expect(computeWatermark([empty, { ...busy, lastActiveMs: NOW + 30_000 }], NOW + 30_000, spec)).toBe(480_000);
  });
});

describe('idleWatermark (the wall-clock close)', () => {
  const idle = { ...spec, maxFutureSkewMs: 300_000 };
  const part = (partition: number, highEventTime: number | undefined, lastActiveMs: number) => ({ topic: 't', partition, highEventTime, lastActiveMs });

  test('null while any partition is active, before any event time, or with no partition', () => {
    expect(idleWatermark([part(0, 600_000, NOW - 30_000), part(1, 500_000, NOW - 29_999)], NOW, idle)).toBeNull();
    expect(idleWatermark([part(0, undefined, NOW - 60_000)], NOW, idle)).toBeNull();
    expect(idleWatermark([], NOW, idle)).toBeNull();
  });

  test('all idle: the wall clock minus maxFutureSkew and allowedLateness, moving with the clock', () => {
    const parts = [part(0, 600_000, NOW - 30_000), part(1, 400_000, NOW - 90_000), part(2, undefined, NOW - 40_000)];
    expect(idleWatermark(parts, NOW, idle)).toBe(NOW - 300_000 - 120_000);
    expect(idleWatermark(parts, NOW + 60_000, idle)).toBe(NOW + 60_000 - 300_000 - 120_000);
  });

  test('never behind the event-time rule of an idle topology: event time ahead of the clock keeps its own', () => {
    const ahead = NOW + 200_000; // a producer clock ahead, within maxFutureSkew
    const parts = [part(0, ahead, NOW - 30_000), part(1, 400_000, NOW - 90_000)];
    expect(idleWatermark(parts, NOW, idle)).toBe(ahead - 120_000);
    expect(idleWatermark(parts, NOW, idle)).toBe(computeWatermark(parts, NOW, spec));
    // once the clock passes event time + maxFutureSkew, the clock leads
    expect(idleWatermark(parts, ahead + 300_001, idle)).toBe(ahead + 1 - 120_000);
  });
});
