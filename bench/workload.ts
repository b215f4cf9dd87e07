// The bench's input: checkout events of ~500 bytes in Confluent wire format, with a fixed
// share of duplicates (the same bytes under the same event_id, as a producer retry sends
// them) and of bad events (truncated Avro, unknown schema id). Every event is a pure
// function of (seed, index), so the pre-producer, the paced producer (another process) and
// the latency sampler agree without holding the whole input in memory.
import fs from 'node:fs';
import path from 'node:path';
import avro from 'avsc';
import type { Message } from 'kafkajs';
import { writeWireFrame } from '../src/decode/wire';
import { packageRoot } from '../src/package-root';

export const CHECKOUT_SCHEMA_FILE = 'schemas/checkout-event.avsc';
/** Size of one good event's value, wire header included. */
export const TARGET_VALUE_BYTES = 500;
/** A schema id no registry hands out in a test stack. */
export const UNKNOWN_SCHEMA_ID = 0x7ff0_0000;

export interface WorkloadSpec {
  seed: number;
  events: number;
  duplicates: number;
  bad: number;
  /** Registry id of the checkout schema under the source subject. */
  schemaId: number;
}

export type EventKind = 'unique' | 'duplicate' | 'truncated' | 'unknown-schema';

export function checkoutSchemaText(): string {
  return fs.readFileSync(path.join(packageRoot(), CHECKOUT_SCHEMA_FILE), 'utf8');
}

/** 32-bit integer hash (lowbias32): cheap, stateless randomness per (seed, index, salt). */
function hash(seed: number, i: number, salt: number): number {
  let x = (seed ^ Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(salt + 1, 0x85ebca77)) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}
const unit = (seed: number, i: number, salt: number) => hash(seed, i, salt) / 2 ** 32;
const hex8 = (n: number) => n.toString(16).padStart(8, '0');

export class Workload {
  private readonly type: avro.Type;

  constructor(readonly spec: WorkloadSpec) {
    this.type = avro.Type.forSchema(JSON.parse(checkoutSchemaText()));
  }

  kind(i: number): EventKind {
    if (i === 0) return 'unique';
    const r = unit(this.spec.seed, i, 1);
    if (r < this.spec.bad / 2) return 'truncated';
    if (r < this.spec.bad) return 'unknown-schema';
    if (r < this.spec.bad + this.spec.duplicates) return 'duplicate';
    return 'unique';
  }

  /** The earlier unique event a duplicate re-sends: one of the last few thousand, as retries are. */
  originalOf(i: number): number {
    let j = i - 1 - (hash(this.spec.seed, i, 2) % Math.min(i, 5000));
    while (this.kind(j) !== 'unique') j--;
    return j;
  }

  eventId(i: number): string {
    const a = hex8(hash(this.spec.seed, i, 3));
    const b = hex8(hash(this.spec.seed, i, 4));
    return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-a${hex8(i).slice(1, 4)}-${hex8(this.spec.seed).slice(0, 4)}${hex8(i)}`;
  }

  /**
   * The Kafka record for input position i (timestamp left to the producer). A duplicate
   * built here gets the given event time; WorkloadEncoder keeps the original's bytes.
   */
  message(i: number, eventTime: number): Message {
    const kind = this.kind(i);
    const j = kind === 'duplicate' ? this.originalOf(i) : i;
    const key = this.eventId(j);
    const value = this.value(j, eventTime);
    if (kind === 'truncated') return { key, value: value.subarray(0, Math.floor(value.length / 2)) };
    if (kind === 'unknown-schema') return { key, value: writeWireFrame(UNKNOWN_SCHEMA_ID, value.subarray(5)) };
    return { key, value };
  }

  /** A good event's bytes: ~TARGET_VALUE_BYTES, the url padding the rest. */
  value(i: number, eventTime: number): Buffer {
    const s = this.spec.seed;
    const u = hash(s, i, 5) % 200_000; // a shopper
    const typeRoll = unit(s, i, 6);
    const type = typeRoll < 0.4 ? 'checkout' : typeRoll < 0.8 ? 'page_view' : 'add_to_cart';
    const loggedIn = unit(s, i, 7) < 0.5;
    const event = {
      event_id: this.eventId(i),
      ts: eventTime,
      type,
      status: unit(s, i, 8) < 0.97 ? 'ok' : 'payment_declined',
      region: ['eu', 'us', 'apac'][hash(s, i, 9) % 3],
      duration_ms: 20 + (hash(s, i, 10) % 600),
      url: '',
      anonymous_id: `anon-${hex8(hash(s, u, 11))}`,
      user_id: loggedIn ? `user-${u}` : null,
      email: loggedIn ? `shopper.${u}@mail.example` : null,
      ip: `10.${u >> 16}.${(u >> 8) & 255}.${u & 255}`,
      consent_analytics: unit(s, i, 12) < 0.9,
      correlation_id: unit(s, i, 13) < 0.5 ? `corr-${hex8(hash(s, i, 14))}` : null,
      amount_cents: type === 'checkout' ? 100 + (hash(s, i, 15) % 50_000) : null,
    };
    const bare = this.type.toBuffer(event).length;
    // 5 bytes of wire header; a url of 64..8191 characters takes a 2-byte length prefix.
    const pad = Math.max(64, TARGET_VALUE_BYTES - 5 - bare - 2);
    const base = `https://shop.example/${type}/step?session=${hex8(hash(s, u, 16))}&ref=`;
    event.url = (base + 'x'.repeat(Math.max(0, pad - base.length))).slice(0, pad);
    return writeWireFrame(this.spec.schemaId, this.type.toBuffer(event));
  }
}

/**
 * Encodes input positions [from, to) with one event time. Duplicates must repeat their
 * original's exact bytes, so recent originals are cached (they point at most 5,000 back).
 */
const RECENT = 8000;

export class WorkloadEncoder {
  private readonly recent = new Map<number, Message>();

  constructor(readonly workload: Workload) {}

  messages(from: number, to: number, eventTime: number): Message[] {
    const out: Message[] = [];
    for (let i = from; i < to; i++) {
      const kind = this.workload.kind(i);
      let m: Message;
      if (kind === 'duplicate') {
        const j = this.workload.originalOf(i);
        m = this.recent.get(j) ?? this.workload.message(j, eventTime);
      } else {
        m = this.workload.message(i, eventTime);
        if (kind === 'unique') this.recent.set(i, m);
      }
      out.push(m);
    }
    for (const j of this.recent.keys()) {
      if (j >= to - RECENT) break;
      this.recent.delete(j);
    }
    return out;
  }

  /** True for positions whose key appears once in the input (latency samples use only these). */
  sampleable(i: number): boolean {
    return this.workload.kind(i) === 'unique';
  }
}

/** Counts of each kind for positions [0, n): what the engine must report at the end. */
export function expectedOutcome(w: Workload, n: number): Record<EventKind, number> {
  const c: Record<EventKind, number> = { unique: 0, duplicate: 0, truncated: 0, 'unknown-schema': 0 };
  for (let i = 0; i < n; i++) c[w.kind(i)]++;
  return c;
}
