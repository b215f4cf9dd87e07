import type { Skip } from './selection';

export interface ReplaySummary {
  dryRun: boolean;
  /** Stopped by Ctrl-C (or the caller's signal) before the end: run the same command again to go on. */
  interrupted: boolean;
  /** Stopped because nothing arrived for --idle-timeout before the end (the broker stopped answering?). */
  idle: boolean;
  /** Offsets waiting for this replay group when the run started (transaction markers included). */
  pending: number;
  /** Re-sent and acknowledged (a dry run: would be re-sent). */
  replayed: number;
  /** `replayed` by dead-letter reason. */
  replayedByReason: Record<string, number>;
  skipped: number;
  skippedBy: Partial<Record<Skip, number>>;
  /** Dead letters that could not be re-sent, by their coordinates in the dead-letter topic. */
  failed: Array<{ deadLetter: string; error: string }>;
  /** False when the topology has no dedupe: a copy re-sent after a crash would not be dropped. */
  dedupe: boolean;
}

export function emptySummary(dryRun: boolean, pending: number, dedupe: boolean): ReplaySummary {
  return { dryRun, interrupted: false, idle: false, pending, replayed: 0, replayedByReason: {}, skipped: 0, skippedBy: {}, failed: [], dedupe };
}

function counts(by: Record<string, number | undefined>): string {
  return Object.entries(by)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0) || a[0].localeCompare(b[0]))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}

/** What the run did, for a person: replayed by reason, skipped by cause, each failure. */
export function formatSummary(s: ReplaySummary): string {
  const lines: string[] = [];
  const verb = s.dryRun ? 'would replay' : 'replayed';
  lines.push(`${verb} ${s.replayed} dead letter${s.replayed === 1 ? '' : 's'}${s.replayed ? ` (${counts(s.replayedByReason)})` : ''}`);
  lines.push(`skipped ${s.skipped}${s.skipped ? ` (${counts(s.skippedBy)})` : ''}`);
  lines.push(`failed ${s.failed.length}`);
  for (const f of s.failed.slice(0, 20)) lines.push(`  ${f.deadLetter}: ${f.error}`);
  if (s.failed.length > 20) lines.push(`  ... and ${s.failed.length - 20} more`);
  if (s.failed.length) lines.push('failed dead letters stay in the dead-letter topic; the next replay starts again from the first of them');
  const settled = s.replayed + s.skipped + s.failed.length;
  // pending counts offsets, transaction markers included: an upper bound of the dead letters.
  const of = `dead letters (of at most ${s.pending} pending)`;
  if (s.interrupted) lines.push(`interrupted after ${settled} ${of}: run the same command again to go on`);
  if (s.idle) lines.push(`stopped after ${settled} ${of}: nothing arrived for the idle timeout; run the same command again to go on`);
  if (s.dryRun) lines.push('dry run: nothing was sent and no offset was committed');
  if (!s.dedupe && !s.dryRun && s.replayed) {
    lines.push('note: the topology has no dedupe, so a replay that dies between a send and its offset commit sends that chunk again on the next run');
  }
  return lines.join('\n');
}
