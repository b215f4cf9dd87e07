import avro from 'avsc';
import Ajv, { type ValidateFunction } from 'ajv';
import { UserError } from '../errors';
import type { SourceSpec } from '../topology/types';
import type { Registry } from './registry';

export type ReaderSchema =
  | { kind: 'avro'; id: number; version: number; type: avro.Type; schema: avro.Schema }
  | { kind: 'json'; id: number; version: number; schema: Record<string, unknown>; validate: ValidateFunction };

/**
 * The reader schema of each source: the subject's latest version when the engine starts.
 * Events written with older compatible versions are resolved to it.
 */
export class ReaderSchemas {
  private constructor(private readonly bySource: Map<string, ReaderSchema>) {}

  static async load(registry: Registry, sources: readonly SourceSpec[]): Promise<ReaderSchemas> {
    const ajv = new Ajv({ strict: false });
    const map = new Map<string, ReaderSchema>();
    for (const source of sources) {
      const latest = await registry.latest(source.subject);
      if (!latest) {
        throw new UserError(`subject ${source.subject} of source ${source.name} is not registered`, [
          `run \`tracklane init -t ${source.name === '' ? 'FILE' : '<topology>'}\` to register the schema named by the topology, or register ${source.subject} yourself`,
        ]);
      }
      const schema = JSON.parse(latest.schema);
      if (source.format === 'avro') {
        if (latest.schemaType !== 'AVRO') throw new UserError(`subject ${source.subject} holds a ${latest.schemaType} schema but source ${source.name} says format: avro`);
        map.set(source.name, { kind: 'avro', id: latest.id, version: latest.version, type: avro.Type.forSchema(schema), schema });
      } else {
        if (latest.schemaType !== 'JSON') throw new UserError(`subject ${source.subject} holds a ${latest.schemaType} schema but source ${source.name} says format: json-schema`);
        map.set(source.name, { kind: 'json', id: latest.id, version: latest.version, schema, validate: ajv.compile(schema) });
      }
    }
    return new ReaderSchemas(map);
  }

  get(source: SourceSpec): ReaderSchema {
    const found = this.bySource.get(source.name);
    if (!found) throw new Error(`no reader schema loaded for source ${source.name}`);
    return found;
  }
}
