import client from 'prom-client';
import { clientRetriesCounter } from './client-log';
import { cpuPerThousandEvents, OUTPUT_NAMES } from './cost';

/**
 * One prom-client registry per engine (tests run several in one process). Every series
 * carries `topology` as a default label. Names are the contract of DESIGN.md section 7;
 * docs/metrics.md lists them and test/unit/metrics-doc.test.ts keeps the two in step.
 */
export function createMetrics(topology: string, sliLabelNames: readonly string[] = []) {
  // groupBy labels become real Prometheus labels; each SLI leaves the others' empty.
  const sliLabels = ['sli', ...sliLabelNames];
  const registry = new client.Registry();
  registry.setDefaultLabels({ topology });
  client.collectDefaultMetrics({ register: registry });
  const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
    new client.Counter<L>({ name, help, labelNames, registers: [registry] });
  const gauge = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
    new client.Gauge<L>({ name, help, labelNames, registers: [registry] });
  const consumed = counter('tracklane_events_consumed_total', 'Input records read', ['source']);
  const outputBytes = counter('tracklane_output_bytes_total', 'Bytes (key, value, headers) of records Kafka acknowledged, per output', ['output']);
  for (const output of OUTPUT_NAMES) outputBytes.inc({ output }, 0);
  return {
    registry,
    consumed,
    outputBytes,
    cpuPer1kEvents: cpuPerThousandEvents(registry, consumed),
    enriched: counter('tracklane_events_enriched_total', 'Enriched records acknowledged by Kafka'),
    deadLettered: counter('tracklane_events_dead_lettered_total', 'Dead letters acknowledged by Kafka', ['reason']),
    duplicates: counter('tracklane_events_duplicate_total', 'Events dropped as duplicates of an accepted idempotency key'),
    consentDropped: counter('tracklane_events_consent_dropped_total', 'Events dropped because consent was denied (whenDenied: drop)'),
    correlationGenerated: counter('tracklane_correlation_generated_total', 'Events that carried no correlation id'),
    correlationInvalid: counter(
      'tracklane_correlation_invalid_total',
      'Correlation sources ignored as invalid and treated as absent (a malformed W3C traceparent header, an over-long field value)',
      ['reason'],
    ),
    expressionErrors: counter(
      'tracklane_expression_errors_total',
      'CEL evaluations that failed on an event, per SLI expression (<sli>.good counts the event as not good; .total and .filter leave it out)',
      ['expression'],
    ),
    piiDetected: counter(
      'tracklane_pii_detected_total',
      'Values the pii-scan step found, per field (JSON pointer, array indexes as *) and kind; never the value',
      ['field', 'kind'],
    ),
    sampleEvents: counter('tracklane_sample_events_total', 'Events the sample step decided on, delivered: kept_rule (keep matched), kept_rate, dropped', ['rule', 'decision']),
    sampleRate: gauge('tracklane_sample_rate', 'Current sample rate per rule and adaptive group (__all__ without adaptive)', ['rule', 'group']),
    sessionEvicted: counter('tracklane_session_evicted_total', 'Sessions dropped because their key reached session.maxSessionsPerKey'),
    identityMergeBlocked: counter('tracklane_identity_merge_blocked_total', 'Identity links refused: the anonymous id already links to the maximum number of users'),
    deliveryLatency: new client.Histogram({
      name: 'tracklane_event_delivery_latency_seconds',
      help: 'processed_at - event_time',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
      registers: [registry],
    }),
    clockSkew: new client.Histogram({
      name: 'tracklane_clock_skew_seconds',
      help: 'broker ingest time - event time (negative: producer clock ahead)',
      buckets: [-60, -5, -1, 0, 0.1, 0.5, 1, 5, 30, 300],
      registers: [registry],
    }),
    consumerLag: gauge('tracklane_consumer_lag', 'High watermark - next offset to process', ['topic', 'partition']),
    batchSeconds: new client.Histogram({
      name: 'tracklane_stage_seconds',
      help: 'Time per batch in each pipeline stage',
      labelNames: ['stage'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    clientRetries: clientRetriesCounter(registry),
    infraRetries: counter('tracklane_infrastructure_retries_total', 'Batches retried because Kafka, the registry or Redis was unavailable', ['dependency']),
    sliGood: counter('tracklane_sli_good_total', 'Good events per SLI', sliLabels),
    sliEvents: counter('tracklane_sli_events_total', 'Valid events per SLI', sliLabels),
    sliRatio: gauge('tracklane_sli_ratio', 'good/total of the last closed window', sliLabels),
    budgetRemaining: gauge('tracklane_slo_error_budget_remaining', 'Fraction of the error budget left over the rolling period', ['slo']),
    burnRate: gauge('tracklane_slo_burn_rate', 'Burn rate over a window', ['slo', 'window']),
    alertFiring: gauge('tracklane_slo_alert_firing', '1 while an alert tier fires', ['slo', 'severity', 'tier']),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
