import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from '../observability/logger';
import type { Alert } from '../slo/records';
import { withRetry } from '../errors/retry';
import type { AlertDecoder } from './decode';
import { FiringSet } from './firing-set';
import { ReceiverError } from './receiver-error';
import type { AlertTarget } from './targets';

// `tracklane alerts forward`: the alerts topic -> Alertmanager / PagerDuty, each transition once.
//
// Once = the offset of a record is committed only after every receiver accepted it (2xx), and
// a record below the committed offset is never sent again. On (re)assignment of a partition
// the forwarder reads it from its beginning up to the committed offset without sending
// anything, to rebuild the set of alerts that are firing (the compacted topic holds each
// alert's latest transition), then goes on delivering from the committed offset. So a
// restart neither loses a transition nor repeats one. The one gap no HTTP receiver lets us
// close: a crash after the receiver answered 2xx and before the commit reached the broker
// (one round trip) sends that record again; Alertmanager (same labels = same alert) and
// PagerDuty (same dedup_key) both absorb such a repeat.
//
// Keep-alive: Alertmanager ends an alert by itself at its endsAt. While an alert fires the
// forwarder re-sends it every resend interval with a fresh endsAt, as Prometheus does. These
// re-sends are not transitions; they carry `x-tracklane-delivery: keepalive`.

export interface ForwarderOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  decoder: AlertDecoder;
  targets: AlertTarget[];
  resendIntervalMs: number;
  log: Logger;
  /** Retry backoff bounds (tests shorten them). */
  retryBaseMs?: number;
  retryCapMs?: number;
}

type Phase = { kind: 'unknown' } | { kind: 'replaying'; until: bigint } | { kind: 'live' };

const HEARTBEAT_MS = 3_000;

export class AlertForwarder {
  private consumer?: Consumer;
  private admin?: Admin;
  private readonly phases = new Map<number, Phase>();
  private readonly firing = new FiringSet();
  /** One request to the receivers at a time: a keep-alive never overtakes a transition. */
  private lane: Promise<unknown> = Promise.resolve();
  private inFlight?: string;
  private keepAliveTimer?: NodeJS.Timeout;
  private keepAliveRunning = false;
  private readonly stopping = new AbortController();
  private failure?: unknown;
  private onFailure?: (err: unknown) => void;
  /** Settles when a receiver rejected a transition for good (the command then exits 1). */
  readonly failed = new Promise<never>((_, reject) => (this.onFailure = reject));
  delivered = 0;

  constructor(private readonly o: ForwarderOptions) {
    this.failed.catch(() => undefined);
  }

  async start(): Promise<void> {
    const { kafka, topic, groupId } = this.o;
    this.admin = kafka.admin();
    await this.admin.connect();
    const consumer = kafka.consumer({
      groupId,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      sessionTimeout: 30_000,
      heartbeatInterval: HEARTBEAT_MS,
      maxWaitTimeInMs: 500,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => this.onAssigned(payload.memberAssignment[topic] ?? []));
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    if (this.o.targets.some((t) => t.keepAlive)) {
      this.keepAliveTimer = setInterval(() => void this.keepAlive(), this.o.resendIntervalMs);
    }
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    clearInterval(this.keepAliveTimer);
    await this.consumer?.disconnect();
    await this.admin?.disconnect();
  }

  /** Partitions taken away are forgotten; new ones (and any not fully rebuilt) are rebuilt. */
  private onAssigned(partitions: number[]): void {
    const mine = new Set(partitions);
    for (const p of [...this.phases.keys()]) {
      if (!mine.has(p)) {
        this.phases.delete(p);
        this.firing.forget(p);
      }
    }
    for (const p of mine) {
      if (this.phases.get(p)?.kind !== 'live') this.phases.set(p, { kind: 'unknown' });
    }
    this.o.log.info({ topic: this.o.topic, partitions }, 'alerts partitions assigned');
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const p = batch.partition;
    if (this.failure !== undefined || this.stopping.signal.aborted) return;
    if ((this.phases.get(p) ?? { kind: 'unknown' }).kind === 'unknown') {
      const { committed, low } = await this.positions(p);
      this.firing.forget(p);
      if (committed <= low) {
        this.phases.set(p, { kind: 'live' });
      } else {
        this.phases.set(p, { kind: 'replaying', until: committed });
        this.o.log.info({ partition: p, from: String(low), until: String(committed) }, 'rebuilding the firing alerts from the alerts topic');
        if (BigInt(batch.messages[0].offset) > low) {
          this.consumer!.seek({ topic: this.o.topic, partition: p, offset: String(low) });
          return;
        }
      }
    }
    for (const message of batch.messages) {
      if (!payload.isRunning() || payload.isStale() || this.failure !== undefined) return;
      const offset = BigInt(message.offset);
      const phase = this.phases.get(p)!;
      if (phase.kind === 'replaying' && offset < phase.until) {
        const alert = await this.decode(message, p);
        if (alert) this.firing.apply(p, alert);
        // Resolved (the next fetch starts after it), never committed: autoCommit is off.
        payload.resolveOffset(message.offset);
        if (offset >= phase.until - 1n) this.goLive(p);
        continue;
      }
      if (phase.kind === 'replaying') this.goLive(p);
      const alert = await this.decode(message, p);
      if (alert && !(await this.deliver(alert, payload))) return;
      await this.consumer!.commitOffsets([{ topic: this.o.topic, partition: p, offset: String(offset + 1n) }]);
      payload.resolveOffset(message.offset);
      if (alert) {
        this.firing.apply(p, alert);
        this.delivered++;
        this.o.log.info({ dedup_key: alert.dedup_key, status: alert.status, partition: p, offset: message.offset, targets: this.o.targets.map((t) => t.name) }, 'transition delivered');
      }
      await payload.heartbeat();
    }
  }

  private goLive(p: number): void {
    this.phases.set(p, { kind: 'live' });
    const firing = this.firing.firing([p]).length;
    this.o.log.info({ partition: p, firing }, 'firing alerts rebuilt; delivering new transitions');
    // The receiver may have dropped them while no forwarder ran: refresh them now.
    if (firing > 0) void this.keepAlive();
  }

  /** The group's committed offset (-1: none) and the partition's first offset. */
  private async positions(p: number): Promise<{ committed: bigint; low: bigint }> {
    const [committed] = await this.admin!.fetchOffsets({ groupId: this.o.groupId, topics: [this.o.topic] });
    const mine = committed?.partitions.find((x) => x.partition === p);
    const offsets = await this.admin!.fetchTopicOffsets(this.o.topic);
    const low = offsets.find((x) => x.partition === p)?.low ?? '0';
    return { committed: BigInt(mine?.offset ?? '-1'), low: BigInt(low) };
  }

  /** Undecodable records are logged and passed over: they are no transition anyone could page on. */
  private async decode(message: KafkaMessage, partition: number): Promise<Alert | undefined> {
    try {
      return await withRetry(() => this.o.decoder.decode(message.value), { log: this.o.log, what: 'read the alert schema', signal: this.stopping.signal });
    } catch (err) {
      if (this.stopping.signal.aborted) throw err;
      this.o.log.error({ partition, offset: message.offset, error: (err as Error).message }, 'alerts record does not decode as tracklane.Alert; skipped');
      return undefined;
    }
  }

  /**
   * Sends one transition to every receiver that has not taken it yet, retrying with backoff
   * for as long as they are down; the partition is paused and the group session kept alive
   * meanwhile. False when the partition was taken away (or the forwarder stops) first.
   */
  private async deliver(alert: Alert, payload: EachBatchPayload): Promise<boolean> {
    const pending = [...this.o.targets];
    const lost = new AbortController();
    const stop = () => lost.abort();
    this.stopping.signal.addEventListener('abort', stop);
    const heartbeat = setInterval(() => {
      if (!payload.isRunning() || payload.isStale()) lost.abort();
      payload.heartbeat().catch(() => undefined);
    }, HEARTBEAT_MS);
    let resume: (() => void) | undefined;
    this.inFlight = alert.dedup_key;
    try {
      await withRetry(
        () => this.inLane(async () => {
          while (pending.length > 0) {
            await pending[0].deliver(alert);
            pending.shift();
          }
        }),
        {
          log: this.o.log,
          what: `deliver ${alert.dedup_key} (${alert.status}) to ${pending.map((t) => t.name).join(', ')}`,
          signal: lost.signal,
          baseMs: this.o.retryBaseMs,
          capMs: this.o.retryCapMs,
          onRetry: () => { resume ??= payload.pause(); },
        },
      );
      return true;
    } catch (err) {
      if (lost.signal.aborted) return false;
      if (err instanceof ReceiverError && !err.retriable) {
        this.failure = err;
        this.onFailure?.(err);
        return false;
      }
      throw err;
    } finally {
      this.inFlight = undefined;
      clearInterval(heartbeat);
      this.stopping.signal.removeEventListener('abort', stop);
      resume?.();
    }
  }

  private inLane<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lane.then(fn);
    this.lane = run.catch(() => undefined);
    return run;
  }

  /** Re-sends what fires on this member's rebuilt partitions; a failure waits for the next interval. */
  private async keepAlive(): Promise<void> {
    if (this.keepAliveRunning || this.stopping.signal.aborted) return;
    this.keepAliveRunning = true;
    try {
      await this.inLane(async () => {
        const live = [...this.phases].filter(([, ph]) => ph.kind === 'live').map(([p]) => p);
        // The alert whose transition is being delivered is left out: re-sending its old state
        // could undo a resolve a receiver already took.
        const firing = this.firing.firing(live).filter((a) => a.dedup_key !== this.inFlight);
        if (firing.length === 0) return;
        for (const t of this.o.targets) await t.keepAlive?.(firing);
        this.o.log.debug({ firing: firing.length }, 'firing alerts re-sent');
      });
    } catch (err) {
      this.o.log.warn({ error: (err as Error).message }, 'keep-alive re-send failed; trying again at the next resend interval');
    } finally {
      this.keepAliveRunning = false;
    }
  }
}
