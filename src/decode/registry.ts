import avro from 'avsc';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import Ajv, { type ValidateFunction } from 'ajv';
import { CredentialsRefusedError, DataError, InfrastructureError } from '../errors';
import { withRetry } from '../errors/retry';
import { RetryTracker } from '../observability/client-log';
import { logger } from '../observability/logger';

/**
 * The schema registry as the pipeline needs it: writer schemas by id (cached forever — ids
 * are immutable), the latest schema of a subject, and registration. Any Confluent-compatible
 * registry works (Apicurio's ccompat API, Confluent Schema Registry, Karapace).
 *
 * A 404 for an id is bad data (UNKNOWN_SCHEMA_ID); anything else that fails is the registry
 * being unavailable, which the consume loop retries without dead-lettering.
 */
export type WriterSchema =
  | { kind: 'avro'; id: number; type: avro.Type; version: number; subject: string }
  | { kind: 'json'; id: number; schema: Record<string, unknown>; validate: ValidateFunction; version: number; subject: string };

export interface RegistryOptions {
  url: string;
  username?: string;
  password?: string;
  /** Time for one registration attempt (default 15 s); tests make it short. */
  registerAttemptMs?: number;
}

export function registryOptionsFromEnv(env = process.env): RegistryOptions {
  return {
    url: env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7',
    username: env.SCHEMA_REGISTRY_USERNAME,
    password: env.SCHEMA_REGISTRY_PASSWORD,
  };
}

/** One version of a subject as the registry holds it. */
export interface SubjectVersion { id: number; version: number; schema: string; schemaType: string }

interface HttpError { status?: number }

/** Registration retries are routine (a slow or restarting registry): debug and counted, warn when they persist. */
const retries = new RetryTracker('registry', logger.child({ stage: 'registry' }));

/** A bounded reason for tracklane_client_retries_total. */
function retryReason(err: InfrastructureError): string {
  if (/did not answer/.test(err.message)) return 'TIMEOUT';
  if (/raced another registration/.test(err.message)) return 'REGISTRATION_RACE';
  const status = (err.cause as HttpError | undefined)?.status;
  return status !== undefined && status >= 500 ? 'SERVER_ERROR' : 'UNAVAILABLE';
}

/** How long a 404 for a schema id is reused before the registry is asked again. */
export const UNKNOWN_ID_TTL_MS = 5_000;
/** One registration attempt (RegistryOptions.registerAttemptMs); up to REGISTER_ATTEMPTS in all, with backoff. */
const REGISTER_ATTEMPT_MS = 15_000;
const REGISTER_ATTEMPTS = 4;
/** Bound on remembered unknown ids (random ids from garbage input); the memory is cleared past it. */
const UNKNOWN_ID_LIMIT = 10_000;

/**
 * `http://user:password@host/...` works as basic auth, but fetch() refuses URLs with
 * credentials and every message names the URL: move them out of it. Explicit
 * SCHEMA_REGISTRY_USERNAME/PASSWORD win over the URL's.
 */
function credentialsOutOfUrl(options: RegistryOptions): RegistryOptions {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    // Not a URL: keep it for fetch to reject, but never show what may be a password.
    return { ...options, url: options.url.replace(/\/\/[^/?#]*@/, '//') };
  }
  if (!url.username && !url.password) return options;
  const fromUrl = { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  url.username = '';
  url.password = '';
  return { url: url.toString(), ...(options.username ? { username: options.username, password: options.password } : fromUrl) };
}

export class Registry {
  readonly client: SchemaRegistry;
  private readonly writers = new Map<number, Promise<WriterSchema>>();
  /** Ids the registry answered 404 for, until when (ms) that answer is reused. */
  private readonly unknown = new Map<number, { message: string; until: number }>();
  private readonly ajv = new Ajv({ allErrors: false, strict: false });

  private readonly options: RegistryOptions;

  constructor(options: RegistryOptions) {
    this.options = options = credentialsOutOfUrl(options);
    const auth = options.username ? { username: options.username, password: options.password ?? '' } : undefined;
    // The client's own retries are kept short: the consume loop owns backoff and pausing.
    this.client = new SchemaRegistry({ host: options.url, auth, retry: { retries: 1, initialRetryTimeInSecs: 0.1, maxRetryTimeInSecs: 1 } });
  }

  /** 401/403: retried like an outage by the callers, reported with the settings to check. */
  private refused(status: number, what: string): CredentialsRefusedError {
    const who = this.options.username ? `user ${this.options.username}` : 'requests without credentials';
    return new CredentialsRefusedError('registry', `schema registry at ${this.options.url} refused ${who} (HTTP ${status}) for ${what}`,
      ['SCHEMA_REGISTRY_USERNAME', 'SCHEMA_REGISTRY_PASSWORD']);
  }

  /** Raw GET against the Confluent API, for the calls the client library lacks. */
  private async get(path: string): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json, application/json' };
    if (this.options.username) {
      headers.authorization = 'Basic ' + Buffer.from(`${this.options.username}:${this.options.password ?? ''}`).toString('base64');
    }
    let res: Response;
    try {
      res = await fetch(this.options.url.replace(/\/$/, '') + path, { headers, signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      throw new InfrastructureError('registry', `schema registry unreachable at ${this.options.url}`, { cause: err });
    }
    const text = await res.text();
    let body: unknown = text;
    try { body = JSON.parse(text); } catch { /* non-JSON error page */ }
    if (res.status === 401 || res.status === 403) throw this.refused(res.status, `GET ${path}`);
    if (res.status >= 500) throw new InfrastructureError('registry', `schema registry answered ${res.status} for ${path}`);
    return { status: res.status, body };
  }

  writerSchema(id: number): Promise<WriterSchema> {
    let cached = this.writers.get(id);
    if (!cached) {
      const miss = this.unknown.get(id);
      if (miss && miss.until > Date.now()) return Promise.reject(new DataError('UNKNOWN_SCHEMA_ID', miss.message));
      cached = this.fetchWriter(id);
      this.writers.set(id, cached);
      // Failures are not cached for good: an outage must not poison the id, and a 404 may be
      // registered later. A 404 is reused for UNKNOWN_ID_TTL_MS, so a stream of events with a
      // bad id costs one registry request per id and interval, not one per batch.
      cached.catch((err: unknown) => {
        this.writers.delete(id);
        if (!(err instanceof DataError) || err.reason !== 'UNKNOWN_SCHEMA_ID') return;
        if (this.unknown.size >= UNKNOWN_ID_LIMIT) this.unknown.clear();
        // The message, not the error: an error's stack keeps the frames' receivers alive, and
        // with them the whole batch of events that was being decoded.
        this.unknown.set(id, { message: err.message, until: Date.now() + UNKNOWN_ID_TTL_MS });
      });
    }
    return cached;
  }

  private async fetchWriter(id: number): Promise<WriterSchema> {
    if (!Number.isInteger(id) || id <= 0) throw new DataError('UNKNOWN_SCHEMA_ID', `schema id ${id} is not a valid registry id`);
    const found = await this.get(`/schemas/ids/${id}`);
    if (found.status === 404) throw new DataError('UNKNOWN_SCHEMA_ID', `schema id ${id} is not in the registry`);
    if (found.status !== 200) throw new InfrastructureError('registry', `schema registry answered ${found.status} for schema id ${id}`);
    const body = found.body as { schema: string; schemaType?: string };
    const versions = await this.get(`/schemas/ids/${id}/versions`);
    const first = Array.isArray(versions.body) ? (versions.body[0] as { subject?: string; version?: number }) : undefined;
    const subject = first?.subject ?? '';
    const version = first?.version ?? -1;
    const schemaType = body.schemaType ?? 'AVRO';
    // The id exists but names a schema the engine cannot read (Protobuf, or one avsc/ajv
    // rejects): that is the event's problem, not an outage to retry forever.
    if (schemaType !== 'AVRO' && schemaType !== 'JSON') {
      throw new DataError('SCHEMA_MISMATCH', `schema id ${id} (${subject} v${version}) is a ${schemaType} schema; only Avro and JSON Schema are read`);
    }
    try {
      const schema = JSON.parse(body.schema);
      if (schemaType === 'JSON') return { kind: 'json', id, schema, validate: this.ajv.compile(schema), version, subject };
      return { kind: 'avro', id, type: avro.Type.forSchema(schema), version, subject };
    } catch (err) {
      throw new DataError('SCHEMA_MISMATCH', `schema id ${id} (${subject} v${version}) cannot be used as a ${schemaType} schema: ${(err as Error).message}`);
    }
  }

  /** Latest registered schema of a subject, or undefined when the subject does not exist. */
  async latest(subject: string): Promise<SubjectVersion | undefined> {
    const res = await this.get(`/subjects/${encodeURIComponent(subject)}/versions/latest`);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new InfrastructureError('registry', `schema registry answered ${res.status} for subject ${subject}`);
    const body = res.body as { id: number; version: number; schema: string; schemaType?: string };
    return { id: body.id, version: body.version, schema: body.schema, schemaType: body.schemaType ?? 'AVRO' };
  }

  /** Every registered version of a subject, oldest first; [] when the subject does not exist. */
  async versions(subject: string): Promise<SubjectVersion[]> {
    const base = `/subjects/${encodeURIComponent(subject)}/versions`;
    const list = await this.get(base);
    if (list.status === 404) return [];
    if (list.status !== 200 || !Array.isArray(list.body)) throw new InfrastructureError('registry', `schema registry answered ${list.status} listing versions of ${subject}`);
    const numbers = (list.body as unknown[]).filter((n): n is number => typeof n === 'number').sort((a, b) => a - b);
    const found: SubjectVersion[] = [];
    for (const n of numbers) {
      const res = await this.get(`${base}/${n}`);
      if (res.status === 404) continue; // deleted between the two requests
      if (res.status !== 200) throw new InfrastructureError('registry', `schema registry answered ${res.status} for ${subject} v${n}`);
      const body = res.body as { id: number; version: number; schema: string; schemaType?: string };
      found.push({ id: body.id, version: body.version, schema: body.schema, schemaType: body.schemaType ?? 'AVRO' });
    }
    return found;
  }

  /**
   * Registers (or finds) a schema under a subject; idempotent, so a request that got no answer
   * is simply sent again. Each attempt is bounded: the registry client sets no timeout, and a
   * CI run once saw Apicurio answer the subject's config lookup and then never answer the
   * registration itself, which hung start-up for good.
   */
  async register(subject: string, schema: string, kind: 'avro' | 'json' = 'avro'): Promise<number> {
    return withRetry(() => this.registerOnce(subject, schema, kind), {
      // The tracker logs each retry (debug, warn when it persists); the last failure goes to
      // the caller, which reports it: giving up is its call to log.
      log: { warn: () => undefined, info: (fields, message) => logger.debug(fields, message) },
      what: `register ${subject}`,
      attempts: REGISTER_ATTEMPTS,
      isRetriable: (err) => err instanceof InfrastructureError,
      onRetry: (err, attempt, delayMs) =>
        retries.retrying(retryReason(err as InfrastructureError), { subject, attempt, delayMs, error: (err as Error).message }, 'schema registration failed; retrying'),
    });
  }

  private async registerOnce(subject: string, schema: string, kind: 'avro' | 'json'): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const ms = this.options.registerAttemptMs ?? REGISTER_ATTEMPT_MS;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new InfrastructureError('registry', `registry did not answer registering ${subject} within ${ms} ms`)), ms);
    });
    try {
      const type = kind === 'avro' ? SchemaType.AVRO : SchemaType.JSON;
      const { id } = await Promise.race([this.client.register({ type, schema } as never, { subject }), timeout]);
      return id;
    } catch (err) {
      if (err instanceof InfrastructureError) throw err;
      const status = (err as HttpError).status;
      // Apicurio answers 409 "A rule named 'COMPATIBILITY' already exists" to the loser of two
      // first registrations of a subject at once (two engines starting together): a race to
      // retry, not a refused schema.
      if (status === 409 && /already exists/i.test((err as Error).message)) {
        throw new InfrastructureError('registry', `registering ${subject} raced another registration: ${(err as Error).message}`, { cause: err });
      }
      if (status === 401 || status === 403) throw this.refused(status, `registering ${subject}`);
      if (status === 409 || status === 422) {
        throw new DataError('SCHEMA_MISMATCH', `registry refused the schema for ${subject}: ${(err as Error).message}`);
      }
      throw new InfrastructureError('registry', `could not register ${subject}: ${(err as Error).message}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }
}
