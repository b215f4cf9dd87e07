import { DDSketch } from '@datadog/sketches-js';

// Latency percentiles per SLI window with DDSketch (relative accuracy 1%). A DDSketch is a
// histogram of counts over logarithmic bins, so two sketches merge by adding counts bin by
// bin. That is what lets several instances build one window in Redis without merging blobs:
// each batch HINCRBYs its bin counts into the window's hash (field `b<key>`, `z` for zeros),
// and the closed window is rebuilt here from those counts (fromBins). The exact maximum is
// kept beside the bins: DDSketch's protobuf form does not carry min/max.
//
// Latencies are non-negative; a negative value (clock trouble upstream) counts as zero.

export const RELATIVE_ACCURACY = 0.01;
const ZERO_BIN = 'z';
const FORMAT_VERSION = 1;

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export class LatencySketch {
  private readonly sketch = new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY });
  private maxValue = 0;

  get count(): number {
    return this.sketch.count;
  }

  get max(): number {
    return this.maxValue;
  }

  add(value: number, count = 1): void {
    this.addBin(binOf(value), count);
    if (value > this.maxValue) this.maxValue = value;
  }

  /** The bin field name a value falls in: `b<key>` or `z`. */
  static binOf(value: number): string {
    return binOf(value);
  }

  /** Adds `count` values to one bin (as returned by binOf / bins()). */
  addBin(bin: string, count: number): void {
    if (!(count > 0)) return;
    if (bin === ZERO_BIN) {
      this.sketch.zeroCount += count;
    } else {
      this.sketch.store.add(Number(bin.slice(1)), count);
    }
    this.sketch.count += count;
  }

  /** Raises the tracked maximum (bins alone only know it to 1%). */
  observeMax(max: number): void {
    if (max > this.maxValue) this.maxValue = max;
  }

  merge(other: LatencySketch): void {
    for (const [bin, count] of other.bins()) this.addBin(bin, count);
    this.observeMax(other.maxValue);
  }

  /** Non-empty bins: field name -> count. */
  bins(): Map<string, number> {
    const out = new Map<string, number>();
    if (this.sketch.zeroCount > 0) out.set(ZERO_BIN, this.sketch.zeroCount);
    const store = this.sketch.store;
    for (let i = 0; i < store.bins.length; i++) {
      if (store.bins[i] > 0) out.set(`b${i + store.offset}`, store.bins[i]);
    }
    return out;
  }

  static fromBins(bins: Iterable<[string, number]>, max: number): LatencySketch {
    const s = new LatencySketch();
    for (const [bin, count] of bins) s.addBin(bin, count);
    s.observeMax(max);
    return s;
  }

  quantile(q: number): number {
    return this.sketch.getValueAtQuantile(q);
  }

  /** null for an empty sketch. */
  summary(): LatencySummary | null {
    if (this.count === 0) return null;
    return { count: this.count, p50: this.quantile(0.5), p95: this.quantile(0.95), p99: this.quantile(0.99), max: this.maxValue };
  }

  /** [version u8][max f64 BE][DDSketch protobuf]. */
  toBytes(): Buffer {
    const head = Buffer.alloc(9);
    head.writeUInt8(FORMAT_VERSION, 0);
    head.writeDoubleBE(this.maxValue, 1);
    return Buffer.concat([head, Buffer.from(this.sketch.toProto())]);
  }

  toBase64(): string {
    return this.toBytes().toString('base64');
  }

  static fromBytes(bytes: Uint8Array): LatencySketch {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (buf.length < 9 || buf.readUInt8(0) !== FORMAT_VERSION) throw new Error('not a serialized LatencySketch (version 1)');
    const decoded = DDSketch.fromProto(buf.subarray(9));
    if (Math.abs(decoded.mapping.relativeAccuracy - RELATIVE_ACCURACY) > 1e-9) {
      throw new Error(`LatencySketch has relative accuracy ${decoded.mapping.relativeAccuracy}, expected ${RELATIVE_ACCURACY}`);
    }
    const s = new LatencySketch();
    if (decoded.zeroCount > 0) s.addBin(ZERO_BIN, decoded.zeroCount);
    const store = decoded.store;
    for (let i = 0; i < store.bins.length; i++) if (store.bins[i] > 0) s.addBin(`b${i + store.offset}`, store.bins[i]);
    s.observeMax(buf.readDoubleBE(1));
    return s;
  }

  static fromBase64(text: string): LatencySketch {
    return LatencySketch.fromBytes(Buffer.from(text, 'base64'));
  }
}

const mapping = new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY }).mapping;

function binOf(value: number): string {
  return value > mapping.minPossible ? `b${mapping.key(value)}` : ZERO_BIN;
}
