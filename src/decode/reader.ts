import avro from 'avsc';
import Ajv, { type ValidateFunction } from 'ajv';
import { UserError } from '../errors';
import type { SourceSpec } from '../topology/types';
import type { Registry, SubjectVersion } from './registry';

export type ReaderSchema =
  | { kind: 'avro'; id: number; version: number; type: avro.Type; schema: avro.Schema }
  | { kind: 'json'; id: number; version: number; schema: Record<string, unknown>; validate: ValidateFunction };

/**
 * What must be ready before a source reads with a newer schema (the enriched schema derived
 * from it, registered). It returns the switch to make at the same moment as the reader's, so
 * no event is ever decoded with the new reader and encoded with the old enriched schema.
 */
export type ReaderChange = (source: SourceSpec, next: ReaderSchema) => Promise<() => void>;

/** A registered subject version as the reader schema of a source; a format mismatch is the user's to fix. */
export function toReaderSchema(source: SourceSpec, found: SubjectVersion, ajv: Ajv = new Ajv({ strict: false })): ReaderSchema {
  const schema = JSON.parse(found.schema);
  if (source.format === 'avro') {
    if (found.schemaType !== 'AVRO') throw new UserError(`subject ${source.subject} holds a ${found.schemaType} schema but source ${source.name} says format: avro`);
    return { kind: 'avro', id: found.id, version: found.version, type: avro.Type.forSchema(schema), schema };
  }
  if (found.schemaType !== 'JSON') throw new UserError(`subject ${source.subject} holds a ${found.schemaType} schema but source ${source.name} says format: json-schema`);
  return { kind: 'json', id: found.id, version: found.version, schema, validate: ajv.compile(schema) };
}

/**
 * The reader schema of each source: the subject's latest version when the engine starts.
 * Events written with older compatible versions are resolved to it. With `readerSchema:
 * latest` it moves on to newer versions while running (see ./follow-latest.ts, which decides
 * when; `adopt` makes the switch).
 */
export class ReaderSchemas {
  private readonly changes: ReaderChange[] = [];
  /** Per source, the adoption in progress: one at a time, so versions only ever go up. */
  private readonly adopting = new Map<string, Promise<boolean>>();

  private constructor(private readonly bySource: Map<string, ReaderSchema>) {}

  static async load(registry: Pick<Registry, 'latest'>, sources: readonly SourceSpec[]): Promise<ReaderSchemas> {
    const ajv = new Ajv({ strict: false });
    const map = new Map<string, ReaderSchema>();
    for (const source of sources) {
      const latest = await registry.latest(source.subject);
      if (!latest) {
        throw new UserError(`subject ${source.subject} of source ${source.name} is not registered`, [
          `run \`tracklane init -t ${source.name === '' ? 'FILE' : '<topology>'}\` to register the schema named by the topology, or register ${source.subject} yourself`,
        ]);
      }
      map.set(source.name, toReaderSchema(source, latest, ajv));
    }
    return new ReaderSchemas(map);
  }

  get(source: SourceSpec): ReaderSchema {
    const found = this.bySource.get(source.name);
    if (!found) throw new Error(`no reader schema loaded for source ${source.name}`);
    return found;
  }

  /** Registers work that must succeed before any source reads with a newer schema. */
  onChange(change: ReaderChange): void {
    this.changes.push(change);
  }

  /**
   * Makes `next` the reader schema of `source` once every onChange hook is ready; false when a
   * version at least as new is already in place. A hook that throws leaves everything as it was.
   */
  adopt(source: SourceSpec, next: ReaderSchema): Promise<boolean> {
    const previous = this.adopting.get(source.name) ?? Promise.resolve(false);
    const run = previous.catch(() => false).then(async () => {
      if (next.version <= this.get(source).version) return false;
      const switches = [];
      for (const change of this.changes) switches.push(await change(source, next));
      // Synchronously, together: between these lines no batch can decode or encode.
      for (const flip of switches) flip();
      this.bySource.set(source.name, next);
      return true;
    });
    this.adopting.set(source.name, run);
    return run;
  }
}
