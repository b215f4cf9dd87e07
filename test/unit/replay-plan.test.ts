import { planChunks, recordBytes, type Item } from '../../src/cli/replay/chunks';
import { CommitPoints } from '../../src/cli/replay/commit-point';
import { parseTimeBound, select, type Selection } from '../../src/cli/replay/selection';
import { formatSummary, emptySummary } from '../../src/cli/replay/summary';
import { formatCoordinates, parseCoordinates } from '../../src/dedupe/replay-header';
import type { DeadLetter } from '../../src/sink/dead-letter';

const send = (bytes: number): Item<number>['send'] => ({ topic: 'raw', message: { value: null }, bytes });

describe('replay chunks', () => {
  test('a record counts its key, value and header bytes', () => {
    const bare = recordBytes({ key: null, value: null });
    expect(recordBytes({ key: Buffer.alloc(10), value: Buffer.alloc(1000), headers: { ab: Buffer.alloc(5), c: 'xyz' } })).toBe(bare + 10 + 1000 + (2 + 5) + (1 + 3) + 2 * 10);
  });

  test('chunks stay under the byte budget and the record cap; a record above the budget travels alone', () => {
    const items: Item<number>[] = [
      { ref: 0, send: send(400) },
      { ref: 1, send: send(400) },
      { ref: 2, send: send(400) }, // 1200 > 1000: new chunk
      { ref: 3 }, // a skip rides along
      { ref: 4, send: send(5000) }, // above the budget: alone
      { ref: 5, send: send(10) },
      { ref: 6, send: send(10) },
      { ref: 7, send: send(10) }, // record cap 2
    ];
    const chunks = planChunks(items, 1000, 2);
    expect(chunks.map((c) => c.map((i) => i.ref))).toEqual([[0, 1], [2, 3], [4], [5, 6], [7]]);
    for (const c of chunks) {
      const sends = c.filter((i) => i.send);
      expect(sends.length).toBeLessThanOrEqual(2);
      if (sends.length > 1) expect(sends.reduce((n, i) => n + i.send!.bytes, 0)).toBeLessThanOrEqual(1000);
    }
  });

  test('60 dead letters of 90 KB make chunks under 1 MB', () => {
    const items: Item<number>[] = Array.from({ length: 60 }, (_, i) => ({ ref: i, send: send(90_000) }));
    const chunks = planChunks(items, 900_000, 500);
    expect(chunks.flat()).toHaveLength(60);
    for (const c of chunks) expect(c.reduce((n, i) => n + i.send!.bytes, 0)).toBeLessThanOrEqual(900_000);
    expect(chunks).toHaveLength(6);
  });
});

describe('replay commit points', () => {
  test('commit stops before the first dead letter that is not settled for good', () => {
    const c = new CommitPoints();
    c.settle(0, '10', true);
    c.settle(0, '11', true);
    c.settle(1, '3', true);
    expect(c.take()).toEqual([{ partition: 0, offset: '12' }, { partition: 1, offset: '4' }]);
    expect(c.take()).toEqual([]);
    c.settle(0, '12', false); // failed or outside --since/--until
    c.settle(0, '13', true);
    c.settle(1, '4', true);
    expect(c.take()).toEqual([{ partition: 1, offset: '5' }]);
    expect(c.isBlocked(0)).toBe(true);
  });
});

describe('replay selection', () => {
  const letter = (over: Partial<DeadLetter> = {}): DeadLetter => ({
    reason: 'CONSENT_DENIED', message: 'm', path: null, stage: 'consent', source_topic: 'raw', source_partition: 0, source_offset: 5,
    source_timestamp: 1_000, key: null, value: Buffer.from('v'), headers: {}, pipeline: 'p', pipeline_version: 1, failed_at: 2_000, ...over,
  });
  const sel = (over: Partial<Selection> = {}): Selection => ({ time: 'failed', sources: new Set(['raw']), ...over });

  test('reason, time bounds (since inclusive, until exclusive), source topic, value', () => {
    expect(select(letter(), sel())).toBeUndefined();
    expect(select(undefined, sel())).toBe('not a dead letter');
    expect(select(letter(), sel({ reason: 'ENRICHMENT_FAILED' }))).toBe('other reason');
    expect(select(letter(), sel({ since: 2_000, until: 2_001 }))).toBeUndefined();
    expect(select(letter(), sel({ since: 2_001 }))).toBe('outside --since/--until');
    expect(select(letter(), sel({ until: 2_000 }))).toBe('outside --since/--until');
    expect(select(letter(), sel({ time: 'source', until: 1_001 }))).toBeUndefined();
    expect(select(letter({ source_topic: 'other' }), sel())).toBe('source topic not in the topology');
    expect(select(letter({ value: null }), sel())).toBe('value not kept');
  });

  test('--since/--until take ISO-8601 or a duration ago', () => {
    const now = Date.parse('2024-05-02T12:00:00Z');
    expect(parseTimeBound('2h', '--since', now)).toBe(now - 7_200_000);
    expect(parseTimeBound('90m', '--since', now)).toBe(now - 5_400_000);
    expect(parseTimeBound('7d', '--since', now)).toBe(now - 7 * 86_400_000);
    expect(parseTimeBound('2024-05-01T10:00:00Z', '--since', now)).toBe(Date.parse('2024-05-01T10:00:00Z'));
    expect(parseTimeBound('2024-05-01T12:00:00+02:00', '--since', now)).toBe(Date.parse('2024-05-01T10:00:00Z'));
    expect(parseTimeBound('2024-05-01T10:00', '--since', now)).toBe(Date.parse('2024-05-01T10:00:00Z'));
    expect(parseTimeBound('2024-05-01', '--since', now)).toBe(Date.parse('2024-05-01T00:00:00Z'));
    expect(() => parseTimeBound('yesterday', '--since', now)).toThrow(/--since yesterday: expected an ISO-8601 time/);
    expect(() => parseTimeBound('2024-13-45', '--until', now)).toThrow(/--until/);
  });
});

describe('replay headers and summary', () => {
  test('coordinates round-trip; anything else is not a replay', () => {
    const c = { topic: 'dlq.x-1', partition: 2, offset: '17' };
    expect(parseCoordinates(Buffer.from(formatCoordinates(c)))).toEqual(c);
    expect(parseCoordinates('dlq:x')).toBeUndefined();
    expect(parseCoordinates(undefined)).toBeUndefined();
  });

  test('the summary names replayed by reason, skipped by cause and every failure', () => {
    const s = emptySummary(false, 10, true);
    Object.assign(s, { replayed: 7, replayedByReason: { CONSENT_DENIED: 5, ENRICHMENT_FAILED: 2 }, skipped: 2, skippedBy: { 'other reason': 2 } });
    s.failed.push({ deadLetter: 'dlq.x:0:9', error: 'too large' });
    expect(formatSummary(s)).toBe(
      'replayed 7 dead letters (CONSENT_DENIED 5, ENRICHMENT_FAILED 2)\nskipped 2 (other reason 2)\nfailed 1\n  dlq.x:0:9: too large\n' +
        'failed dead letters stay in the dead-letter topic; the next replay starts again from the first of them',
    );
  });
});
