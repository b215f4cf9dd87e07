/**
 * The replay group's committed offset on a partition means "every dead letter before this
 * one was dealt with for good": re-sent and acknowledged, or skipped for a reason that will
 * not change. It stops at the first dead letter of the run that is not (one that failed to
 * send, or lies outside this run's --since/--until), so a later run reads that one again.
 * Later dead letters of the run are still re-sent; a later run sends them again and dedupe
 * drops the copies (docs/state.md).
 */
export class CommitPoints {
  private readonly next = new Map<number, bigint>();
  private readonly blocked = new Set<number>();
  private readonly dirty = new Set<number>();

  /** Records the outcome of the dead letter at `offset`, in read order per partition. */
  settle(partition: number, offset: string, final: boolean): void {
    if (this.blocked.has(partition)) return;
    if (!final) {
      this.blocked.add(partition);
      return;
    }
    this.next.set(partition, BigInt(offset) + 1n);
    this.dirty.add(partition);
  }

  /** Offsets to commit now (each partition's next offset to read), and forgets them. */
  take(): Array<{ partition: number; offset: string }> {
    const out = [...this.dirty].map((partition) => ({ partition, offset: String(this.next.get(partition)) }));
    this.dirty.clear();
    return out;
  }

  isBlocked(partition: number): boolean {
    return this.blocked.has(partition);
  }
}
