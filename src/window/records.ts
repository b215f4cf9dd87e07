import avro from 'avsc';
import { readPackageSchema } from '../package-root';
import type { Labels } from './labels';
import type { LatencySummary } from './latency';

// The two records this part of the engine publishes (DESIGN.md section 6). Timestamps are
// epoch ms; durations (period) are ms; both are Avro longs.

/** tracklane.SliWindow: one closed bucket, metrics topic, key `sli|labels|window_start`. */
export interface SliWindow {
  topology: string;
  sli: string;
  labels: Labels;
  window_start: number;
  window_end: number;
  good: number;
  total: number;
  ratio: number | null;
  latency: LatencySummary | null;
  late_events: number;
  emitted_at: number;
}

export type AlertStatus = 'firing' | 'resolved';
export type Severity = 'page' | 'ticket';

/** tracklane.Alert: one transition, alerts topic (compacted), key `dedup_key`. */
export interface Alert {
  dedup_key: string;
  status: AlertStatus;
  severity: Severity;
  tier: string;
  topology: string;
  slo: string;
  sli: string;
  labels: Labels;
  objective: number;
  period: number;
  burn_rate_long: number | null;
  burn_rate_short: number | null;
  threshold: number | null;
  error_budget_remaining: number | null;
  starts_at: number;
  ends_at: number | null;
  summary: string;
  runbook_url: string | null;
  emitted_at: number;
}

export const sliWindowSchema = readPackageSchema('schemas/tracklane/SliWindow.avsc');
export const alertSchema = readPackageSchema('schemas/tracklane/Alert.avsc');
export const sliWindowType = avro.Type.forSchema(sliWindowSchema as avro.Schema);
export const alertType = avro.Type.forSchema(alertSchema as avro.Schema);

/** Kafka key of an SLI window: `sli|labels|window_start` (labels as labelsKey). */
export function sliWindowKey(w: SliWindow, labelsText: string): string {
  return `${w.sli}|${labelsText}|${w.window_start}`;
}
