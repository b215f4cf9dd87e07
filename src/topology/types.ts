// The loaded, validated topology: what every stage of the pipeline reads.
// Durations are already milliseconds; CEL expressions are kept as source text here and
// compiled once by src/expr/cel.ts.

export type Delivery = 'exactly-once' | 'at-least-once';
export type SourceFormat = 'avro' | 'json-schema';
export type ReaderSchemaMode = 'latest' | 'pinned';

export interface SourceSpec {
  name: string;
  topic: string;
  format: SourceFormat;
  subject: string;
  /** Path (relative to the topology file's folder, already resolved to absolute) of a schema `init` registers. */
  schema?: string;
  partitions: number;
  eventTime: { field: string; maxFutureSkewMs: number };
  idempotencyKey: string;
  /** Values above this many bytes are dead-lettered as OVERSIZE. */
  maxValueBytes: number;
  /**
   * `latest`: a newer compatible version of `subject`, registered while the engine runs, becomes
   * the reader schema (and re-derives the enriched schema); `pinned`: the version at start stays.
   */
  readerSchema: ReaderSchemaMode;
}

export interface CorrelationStep {
  kind: 'correlation';
  /** Record field that may carry the id; without it only the header is read. */
  field?: string;
  header: string;
  generate: boolean;
}
export interface IdentityStep {
  kind: 'identity'; anonymousId: string; userId: string;
  ttlMs: number; maxUsersPerAnonymousId: number; blockedValues: string[];
}
export interface SessionStep {
  kind: 'session'; by: string[]; gapMs: number;
  /** Sessions kept per by-value; beyond it the oldest are dropped (tracklane_session_evicted_total). */
  maxSessionsPerKey?: number;
}
export interface PseudonymizeStep { kind: 'pseudonymize'; fields: string[] }
export interface ConsentStep { kind: 'consent'; field: string; whenDenied: 'strip' | 'drop' | 'deadletter'; fields?: string[] }
export type PiiKind = 'email' | 'ip' | 'phone' | 'card' | 'secret';
export interface PiiScanStep {
  kind: 'pii-scan';
  /** Top-level fields to scan (everything inside them too); absent: every field. */
  fields?: string[];
  except: string[];
  kinds: PiiKind[];
  action: 'count' | 'pseudonymize' | 'deadletter';
}
export interface SampleStep {
  kind: 'sample';
  /** CEL over the event: a match is always kept (errors, slow requests). */
  keep?: string;
  /** Probability of keeping any other event; with adaptive, the rate a group starts at. */
  rate: number;
  /** Fields (of the event or tracklane meta) whose values key the decision; [] = idempotency key. */
  by: string[];
  adaptive?: { targetPerSecond: number; by: string[]; minRate: number; maxGroups: number };
}
export type EnrichStep = CorrelationStep | IdentityStep | SessionStep | PseudonymizeStep | ConsentStep | PiiScanStep | SampleStep;
export type EnrichStepKind = EnrichStep['kind'];

export interface DedupeSpec { key: string; windowMs: number; onConflict: 'deadletter' | 'keep' | 'drop' }

export interface OutputsSpec {
  enriched: { topic: string; partitions?: number };
  deadLetter: { topic: string; partitions?: number };
  /** Present whenever the topology has SLIs or SLOs (the loader requires it then). */
  metrics?: { topic: string; partitions?: number };
  /** Present whenever the topology has SLIs or SLOs (the loader requires it then). */
  alerts?: { topic: string; partitions?: number; format: 'avro' | 'json' };
}

export interface WindowsSpec { bucketMs: number; allowedLatenessMs: number; idleTimeoutMs: number }

export interface RatioSli { name: string; kind: 'ratio'; good: string; total: string; groupBy: string[]; maxSeries: number }
export interface LatencySli {
  name: string; kind: 'latency'; field: string; threshold: number; filter?: string;
  groupBy: string[]; maxSeries: number;
}
/**
 * A pipeline SLI (docs/tracking-slis.md): measured from what the pipeline knows about each
 * event (headers, tracklane meta, dead letters), not from a CEL expression.
 */
export type BuiltinMeasure =
  | { type: 'correlation-coverage' }
  | { type: 'trace-completeness' }
  /** processed_at - event time, in ms; good when <= thresholdMs. */
  | { type: 'delivery-latency'; thresholdMs: number }
  /** Bad: dead-lettered (only for these reasons when given). */
  | { type: 'ingestion-errors'; reasons?: string[] }
  /** Each entry is satisfied by any one of its fields. */
  | { type: 'missing-context'; fields: string[][] };
export type BuiltinType = BuiltinMeasure['type'];
export interface BuiltinSli { name: string; kind: 'builtin'; builtin: BuiltinMeasure; groupBy: string[]; maxSeries: number }
export type SliSpec = RatioSli | LatencySli | BuiltinSli;

export interface BurnRateTier {
  /** e.g. "1h/5m": long and short window as written for a 30d period, scaled otherwise. */
  name: string;
  severity: 'page' | 'ticket';
  longWindowMs: number;
  shortWindowMs: number;
  /** Burn-rate threshold: budget fraction * period / long window. */
  threshold: number;
}

export interface SloSpec {
  name: string;
  sli: string;
  objective: number;
  periodMs: number;
  minEvents: number;
  runbook?: string;
  tiers: BurnRateTier[];
}

export interface Topology {
  /** Absolute path of the file it was loaded from (for messages). */
  file: string;
  name: string;
  version: number;
  delivery: Delivery;
  sources: SourceSpec[];
  enrich: EnrichStep[];
  dedupe?: DedupeSpec;
  outputs: OutputsSpec;
  windows: WindowsSpec;
  slis: SliSpec[];
  slos: SloSpec[];
}
