import { randomBytes } from 'node:crypto';
import type { OutputMessage } from '../sink/output';
import type { Logger } from '../observability/logger';
import type { IdleDelivery } from '../sink/idle-delivery';
import type { SloObserver } from '../slo/observer';
import type { Topology } from '../topology/types';

// The idle timer (issue 19, docs/slo.md "Idle close"): event time moves only with events, so
// when every producer stops the last buckets would never close and the no-data alert could
// not fire. Every instance runs this timer; only the holder of the idle lease in Redis closes.
// Per tick: take or renew the lease; on becoming the holder, resume the idle delivery (which
// fences the previous holder's producer and says which closes were delivered); close the
// buckets the wall clock passed (SloObserver.closeIdle); deliver its records with the close's
// sequence number. A failed tick is retried from the ledger on the next one.

export interface IdleCloserOptions {
  topology: Topology;
  slo: SloObserver;
  delivery: IdleDelivery;
  instanceId: string;
  log: Logger;
  /** Told what was delivered (tracklane_output_bytes_total). */
  onDelivered?: (messages: readonly OutputMessage[]) => void;
  /** Default: min(idleTimeout, bucket) / 2, at least 100 ms. */
  intervalMs?: number;
}

/** How often the timer ticks, and how long the lease lives without renewal. */
export function idleTiming(topology: Pick<Topology, 'windows'>): { intervalMs: number; leaseMs: number } {
  const intervalMs = Math.max(100, Math.min(topology.windows.idleTimeoutMs, topology.windows.bucketMs) / 2);
  return { intervalMs, leaseMs: Math.max(5_000, 5 * intervalMs) };
}

export class IdleCloser {
  private readonly holder: string;
  private readonly intervalMs: number;
  private readonly leaseMs: number;
  private readonly maxFutureSkewMs: number;
  private timer?: NodeJS.Timeout;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Next sequence number; undefined: resume first; null: unknown (at-least-once). */
  private next: number | null | undefined;

  constructor(private readonly o: IdleCloserOptions) {
    // Two engines of one instance id (tests, a restart while the old one drains) are two holders.
    this.holder = `${o.instanceId}-${randomBytes(4).toString('hex')}`;
    const timing = idleTiming(o.topology);
    this.intervalMs = o.intervalMs ?? timing.intervalMs;
    this.leaseMs = Math.max(timing.leaseMs, 5 * this.intervalMs);
    this.maxFutureSkewMs = Math.max(0, ...o.topology.sources.map((s) => s.eventTime.maxFutureSkewMs));
  }

  start(): void {
    const schedule = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.running = this.tick().finally(schedule);
      }, this.intervalMs);
    };
    schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.o.delivery.close();
  }

  /** One tick; never throws (a failure is logged and the next tick starts over). */
  async tick(): Promise<void> {
    try {
      // Every instance, lease or not: drop SLO gauges another instance's evaluation made stale.
      await this.o.slo.checkGaugeOwnership();
      if (!(await this.o.slo.windows.takeIdleLease(this.holder, this.leaseMs))) {
        this.next = undefined;
        return;
      }
      if (this.next === undefined) this.next = await this.o.delivery.resume();
      if (this.stopped) return;
      const seq = this.next ?? 0;
      const idle = { holder: this.holder, leaseMs: this.leaseMs, maxFutureSkewMs: this.maxFutureSkewMs };
      const closed = await this.o.slo.closeIdle({ first: String(seq), seq: String(seq), idle });
      if (closed.status === 'busy') {
        this.next = undefined;
        return;
      }
      if (closed.messages.length === 0) return;
      await this.o.delivery.deliver(closed.messages, seq);
      this.o.onDelivered?.(closed.messages);
      this.next = seq + 1;
      this.o.log.debug({ seq, records: closed.messages.length }, 'idle close delivered');
    } catch (err) {
      this.next = undefined;
      this.o.log.warn({ error: (err as Error)?.message }, 'idle close failed; retrying on the next tick');
    }
  }
}
