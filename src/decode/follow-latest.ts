import { InfrastructureError } from '../errors';
import type { Logger } from '../observability/logger';
import type { SourceSpec } from '../topology/types';
import { toReaderSchema, type ReaderSchema, type ReaderSchemas } from './reader';
import type { Registry, WriterSchema } from './registry';

/**
 * `readerSchema: latest`: producers move to a new version of the source subject while the
 * engine runs, and the first sign of it is a writer schema id the engine has not met. So the
 * first time a source meets an id, the subject's latest version is looked up (once per id,
 * shared by the batches that meet it together, never per event); when it is newer than the
 * reader and can read what the reader reads (BACKWARD), it is adopted. The usual case, an
 * older version of the subject itself, needs no lookup at all.
 */
export class LatestReaderFollower {
  /** `source|writer id` checked and settled: nothing to wait for again. */
  private readonly settled = new Set<string>();
  private readonly pending = new Map<string, Promise<void>>();

  constructor(
    private readonly registry: Pick<Registry, 'latest'>,
    private readonly readers: ReaderSchemas,
  ) {}

  /**
   * The lookup to await before decoding events of `writer` for `source`, or undefined when
   * there is none. Registry outages reject (the batch is retried); anything else that keeps a
   * newer version from being adopted is logged and the current reader stays.
   */
  check(source: SourceSpec, writer: WriterSchema, log: Logger): Promise<void> | undefined {
    const reader = this.readers.get(source);
    if (writer.id === reader.id) return undefined;
    if (writer.subject === source.subject && writer.version <= reader.version) return undefined;
    const key = `${source.name}|${writer.id}`;
    if (this.settled.has(key)) return undefined;
    if (source.readerSchema === 'pinned') {
      this.settled.add(key);
      this.notePinned(source, writer, log).catch(() => undefined);
      return undefined;
    }
    let found = this.pending.get(key);
    if (!found) {
      found = this.follow(source, writer, log).then(
        () => {
          this.settled.add(key);
          this.pending.delete(key);
        },
        (err: unknown) => {
          this.pending.delete(key); // asked again with the retried batch
          throw err;
        },
      );
      this.pending.set(key, found);
    }
    return found;
  }

  /**
   * Pinned is chosen, but must not be silent: say once per writer id when the subject has moved
   * on. Never awaited by the batch, so the registry is not on a pinned source's path.
   */
  private async notePinned(source: SourceSpec, writer: WriterSchema, log: Logger): Promise<void> {
    const latest = await this.registry.latest(source.subject);
    const reader = this.readers.get(source);
    if (latest && latest.version > reader.version) {
      log.info({ source: source.name, subject: source.subject, writerId: writer.id, latest: latest.version, reader: reader.version }, 'the source subject has a newer version; the pinned reader schema drops its new fields until a restart');
    }
  }

  private async follow(source: SourceSpec, writer: WriterSchema, log: Logger): Promise<void> {
    const latest = await this.registry.latest(source.subject);
    const current = this.readers.get(source);
    if (!latest || latest.version <= current.version) return;
    const about = { source: source.name, subject: source.subject, writerId: writer.id, from: current.version, to: latest.version };
    let next: ReaderSchema;
    try {
      next = toReaderSchema(source, latest);
      // The registry's compatibility rule may be NONE: check that the new reader can still read
      // everything the current one could, or old events would start failing.
      if (next.kind === 'avro' && current.kind === 'avro') next.type.createResolver(current.type);
    } catch (err) {
      log.warn({ ...about, err: (err as Error).message }, 'the newer version of the source subject cannot read the current one; the reader schema stays');
      return;
    }
    try {
      if (await this.readers.adopt(source, next)) log.info({ ...about, readerId: next.id }, 'reader schema follows the newer version of the source subject');
    } catch (err) {
      if (err instanceof InfrastructureError) throw err;
      log.warn({ ...about, err: (err as Error).message }, 'the newer version of the source subject is not adopted; the reader schema stays');
    }
  }
}
