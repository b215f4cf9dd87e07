import { LatencySketch, RELATIVE_ACCURACY } from '../../src/window/latency';

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))];
}

describe('LatencySketch', () => {
  const values = Array.from({ length: 10_000 }, (_, i) => Math.exp((i % 997) / 100) + (i % 13)); // 1 .. ~21,000, skewed
  const sorted = [...values].sort((a, b) => a - b);

  test('p50/p95/p99 within 1% relative error, max exact', () => {
    const s = new LatencySketch();
    for (const v of values) s.add(v);
    const sum = s.summary()!;
    expect(sum.count).toBe(values.length);
    expect(sum.max).toBe(sorted[sorted.length - 1]);
    for (const [q, key] of [[0.5, 'p50'], [0.95, 'p95'], [0.99, 'p99']] as const) {
      const exact = exactQuantile(sorted, q);
      expect(Math.abs(sum[key] - exact) / exact).toBeLessThanOrEqual(RELATIVE_ACCURACY + 1e-9);
    }
  });

  test('merging two halves equals one sketch over everything', () => {
    const all = new LatencySketch();
    const a = new LatencySketch();
    const b = new LatencySketch();
    values.forEach((v, i) => {
      all.add(v);
      (i % 2 ? a : b).add(v);
    });
    a.merge(b);
    expect(a.summary()).toEqual(all.summary());
    expect([...a.bins()].sort()).toEqual([...all.bins()].sort());
  });

  test('bins round-trip (how windows add up in Redis), and bytes/base64 round-trip', () => {
    const s = new LatencySketch();
    for (const v of values) s.add(v);
    s.add(0);
    s.add(-5); // clock trouble: counts as zero
    const fromBins = LatencySketch.fromBins(s.bins(), s.max);
    expect(fromBins.summary()).toEqual(s.summary());
    expect(LatencySketch.fromBase64(s.toBase64()).summary()).toEqual(s.summary());
    expect(LatencySketch.fromBytes(s.toBytes()).count).toBe(values.length + 2);
    expect(s.bins().get('z')).toBe(2);
  });

  test('binOf is the bin add() uses', () => {
    const s = new LatencySketch();
    s.add(123.4);
    expect([...s.bins().keys()]).toEqual([LatencySketch.binOf(123.4)]);
  });

  test('empty: no summary; garbage bytes are refused', () => {
    expect(new LatencySketch().summary()).toBeNull();
    expect(() => LatencySketch.fromBytes(Buffer.from([9, 9, 9]))).toThrow(/LatencySketch/);
  });
});
