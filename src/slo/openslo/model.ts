// The OpenSLO v1 documents Tracklane writes and reads (github.com/OpenSLO/OpenSLO README,
// "openslo/v1"), only the parts Tracklane uses.

export const API_VERSION = 'openslo/v1';
/** metricSource.type of queries that are Tracklane CEL over the topology's events. */
export const METRIC_SOURCE_TYPE = 'tracklane';
/** AlertNotificationTarget.spec.target of the topology's alerts topic. */
export const ALERTS_TOPIC_TARGET = 'tracklane-alerts-topic';
/** Annotation prefix for what OpenSLO has no field for. */
export const ANNOTATION = {
  minEvents: 'tracklane/min-events',
  runbook: 'tracklane/runbook',
  period: 'tracklane/period',
  tier: 'tracklane/tier',
  longWindow: 'tracklane/long-window',
  shortWindow: 'tracklane/short-window',
} as const;

export interface Metadata { name: string; displayName?: string; annotations?: Record<string, string> }

export interface Doc {
  apiVersion: string;
  kind: string;
  metadata: Metadata;
  spec: Record<string, unknown>;
}

export interface MetricSource { metricSourceRef?: string; type?: string; spec?: Record<string, unknown> }
