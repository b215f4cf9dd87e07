import type { Alert } from '../slo/records';

/**
 * What a receiver has been told is firing, per partition of the alerts topic: dedup_key ->
 * the firing record. The alerts topic is compacted by dedup_key, so reading a partition from
 * its beginning up to the committed offset rebuilds exactly the set as it was after the last
 * delivered transition (compaction only drops records a later one of the same key replaces).
 */
export class FiringSet {
  private readonly byPartition = new Map<number, Map<string, Alert>>();

  apply(partition: number, alert: Alert): void {
    let firing = this.byPartition.get(partition);
    if (!firing) this.byPartition.set(partition, (firing = new Map()));
    if (alert.status === 'firing') firing.set(alert.dedup_key, alert);
    else firing.delete(alert.dedup_key);
  }

  forget(partition: number): void {
    this.byPartition.delete(partition);
  }

  /** Firing alerts of the given partitions, in dedup_key order (stable bodies, stable logs). */
  firing(partitions: Iterable<number>): Alert[] {
    const out: Alert[] = [];
    for (const p of partitions) out.push(...(this.byPartition.get(p)?.values() ?? []));
    return out.sort((a, b) => (a.dedup_key < b.dedup_key ? -1 : a.dedup_key > b.dedup_key ? 1 : 0));
  }
}
