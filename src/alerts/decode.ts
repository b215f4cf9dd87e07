import type avro from 'avsc';
import { readWireFrame } from '../decode/wire';
import type { Registry } from '../decode/registry';
import { alertType, type Alert } from '../slo/records';

/**
 * An alerts-topic value as a tracklane.Alert: Confluent-framed Avro (outputs.alerts.format:
 * avro, resolved from the writer schema the frame names to this version's Alert schema) or
 * plain JSON (format: json). Registry outages throw retriable errors; a value that is neither
 * throws a plain Error.
 */
export class AlertDecoder {
  private readonly resolvers = new Map<number, avro.Resolver>();

  constructor(private readonly format: 'avro' | 'json', private readonly registry: Registry) {}

  async decode(value: Buffer | null): Promise<Alert> {
    if (value === null) throw new Error('the value is null (a tombstone)');
    if (this.format === 'json') return JSON.parse(value.toString('utf8')) as Alert;
    const frame = readWireFrame(value);
    let resolver = this.resolvers.get(frame.schemaId);
    if (!resolver) {
      const writer = await this.registry.writerSchema(frame.schemaId);
      if (writer.kind !== 'avro') throw new Error(`schema id ${frame.schemaId} is not an Avro schema`);
      resolver = alertType.createResolver(writer.type);
      this.resolvers.set(frame.schemaId, resolver);
    }
    return alertType.fromBuffer(frame.payload, resolver) as Alert;
  }
}
