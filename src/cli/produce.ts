import fs from 'node:fs';
import readline from 'node:readline';
import avro from 'avsc';
import type { Command } from 'commander';
import type { Message } from 'kafkajs';
import { Registry, registryOptionsFromEnv } from '../decode/registry';
import { fromPlainJson } from '../decode/plain-json';
import { writeWireFrame } from '../decode/wire';
import { DataError, UserError } from '../errors';
import { PRODUCER_OPTIONS } from '../sink/producer';
import { createKafka } from '../source/kafka';
import { loadTopology } from '../topology/load';
import type { SourceSpec } from '../topology/types';
import { action, parsePositiveInt } from './command';
import { progressBar } from './progress';

type Encoder = (line: string, lineNo: number) => Message;

async function encoderFor(source: SourceSpec, raw: boolean): Promise<Encoder> {
  if (raw) {
    return (line) => ({ value: Buffer.from(line.trim(), 'base64') });
  }
  const registry = new Registry(registryOptionsFromEnv());
  const latest = await registry.latest(source.subject);
  if (!latest) throw new UserError(`subject ${source.subject} is not registered`, ['run `tracklane init -t <topology>` first']);
  const schema = JSON.parse(latest.schema);
  const type = source.format === 'avro' ? avro.Type.forSchema(schema) : undefined;
  return (line, lineNo) => {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line);
    } catch (err) {
      throw new UserError(`line ${lineNo}: not JSON: ${(err as Error).message}`);
    }
    let payload: Buffer;
    try {
      payload = type ? type.toBuffer(fromPlainJson(schema, event)) : Buffer.from(JSON.stringify(event));
    } catch (err) {
      const msg = err instanceof DataError ? err.message : (err as Error).message;
      throw new UserError(`line ${lineNo}: does not fit ${source.subject} v${latest.version}: ${msg}`, ['fix the line, or send it as bytes with --raw to test dead-lettering']);
    }
    const key = event[source.idempotencyKey];
    const headers: Record<string, string> = {};
    if (typeof event.traceparent === 'string') headers.traceparent = event.traceparent;
    return { key: key === undefined || key === null ? null : String(key), value: writeWireFrame(latest.id, payload), headers };
  };
}

export async function produceFile(opts: { topology: string; source: string; file: string; rate?: number; raw?: boolean }): Promise<number> {
  const topology = loadTopology(opts.topology);
  const source = topology.sources.find((s) => s.name === opts.source);
  if (!source) throw new UserError(`no source named ${opts.source} in ${opts.topology}`, [`sources: ${topology.sources.map((s) => s.name).join(', ')}`]);
  if (!fs.existsSync(opts.file)) throw new UserError(`file ${opts.file} does not exist`);
  const encode = await encoderFor(source, !!opts.raw);
  const lines: Message[] = [];
  const input = readline.createInterface({ input: fs.createReadStream(opts.file), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of input) {
    lineNo++;
    if (line.trim() === '') continue;
    lines.push(encode(line, lineNo));
  }
  const producer = createKafka(`tracklane-produce-${topology.name}`).producer(PRODUCER_OPTIONS);
  await producer.connect();
  const bar = progressBar(`produce ${source.topic}`, lines.length);
  try {
    // With --rate, send in 100 ms slices; otherwise in batches of 1,000.
    const slice = opts.rate ? Math.max(1, Math.round(opts.rate / 10)) : 1000;
    const started = Date.now();
    for (let i = 0; i < lines.length; i += slice) {
      await producer.send({ topic: source.topic, messages: lines.slice(i, i + slice), acks: -1 });
      bar.update(Math.min(lines.length, i + slice));
      if (opts.rate) {
        const due = started + ((i + slice) / opts.rate) * 1000;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }
  } finally {
    bar.stop();
    await producer.disconnect();
  }
  return lines.length;
}

export function registerProduce(program: Command): void {
  program
    .command('produce')
    .description('send JSON lines (or --raw base64 values) to a source topic in Confluent wire format')
    .requiredOption('-t, --topology <file>', 'topology YAML')
    .requiredOption('--source <name>', 'source name in the topology')
    .requiredOption('--file <file>', 'JSON lines; with --raw, base64 of the exact value bytes')
    .option('--rate <n>', 'events per second (default: as fast as possible)')
    .option('--raw', 'each line is the base64 of the exact value bytes')
    .action(
      action(async (opts: { topology: string; source: string; file: string; rate?: string; raw?: boolean }) => {
        const n = await produceFile({ ...opts, rate: opts.rate ? parsePositiveInt(opts.rate, '--rate') : undefined });
        process.stderr.write(`produced ${n} events\n`);
      }),
    );
}
