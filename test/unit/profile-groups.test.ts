import { groupOf, groupSelfTimes } from '../../bench/profile-groups';
import { formatProfile, selfTimes, type Profile } from '../../bench/profile-top';

// A synthetic .cpuprofile: a call tree whose leaves live in src folders (compiled dist/src and
// ts-jest src), node_modules packages (plain and scoped), Node's own code, V8 builtins (no
// script: they count for their nearest caller with one) and the garbage collector, with known
// sample counts. Every sample lasts 1 ms (timeDeltas of 1000 µs).

const ROOT = '/repo';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

function profile(): Profile {
  const nodes = [
    { id: 1, callFrame: frame('(root)'), children: [2, 10, 11, 14, 99] },
    { id: 2, callFrame: frame('processBatch', 'file:///repo/dist/src/engine/conductor.js', 10), children: [3, 4, 5, 6, 7, 8, 9] },
    { id: 3, callFrame: frame('decodeFrame', 'file:///repo/dist/src/decode/avro.js', 5) },
    { id: 4, callFrame: frame('writeString', 'file:///repo/node_modules/avsc/lib/utils.js', 100), children: [13] },
    { id: 5, callFrame: frame('encode', 'file:///repo/node_modules/@kafkajs/confluent-schema-registry/dist/x.js', 1) },
    { id: 6, callFrame: frame('send', '/repo/node_modules/ioredis/built/Redis.js', 1) },
    { id: 7, callFrame: frame('pseudonymize', '/repo/src/enrich/pseudonymize.ts', 3) },
    { id: 8, callFrame: frame('FastBuffer', 'node:internal/buffer', 1) },
    { id: 9, callFrame: frame('stringify') },
    { id: 10, callFrame: frame('(garbage collector)') },
    { id: 11, callFrame: frame('(program)') },
    // avsc's compiled writer (new Function): no script of its own, so it is avsc's.
    { id: 13, callFrame: frame('(anonymous)') },
    // A builtin with no script anywhere above it.
    { id: 14, callFrame: frame('now') },
    { id: 99, callFrame: frame('(idle)') },
  ];
  // node id -> samples, laid out in id order
  const counts: Record<number, number> = { 2: 1, 3: 6, 4: 4, 5: 1, 6: 2, 7: 3, 8: 2, 9: 1, 10: 5, 11: 1, 13: 2, 14: 1, 99: 50 };
  const samples = Object.entries(counts).flatMap(([id, n]) => Array<number>(n).fill(Number(id)));
  // One more delta than needed is harmless: a sample lasts until the next one, the last counts 0.
  const timeDeltas = samples.map(() => 1000);
  return { nodes, startTime: 0, endTime: samples.length * 1000, samples, timeDeltas };
}

describe('profile grouping by src folder and package', () => {
  it('names the group of a script whatever form its url takes', () => {
    expect(groupOf('file:///repo/dist/src/sink/producer.js', 'send', ROOT)).toBe('sink');
    expect(groupOf('/repo/src/window/bucket.ts', 'f', ROOT)).toBe('window');
    expect(groupOf('file:///repo/dist/src/index.js', 'f', ROOT)).toBe('src (top level)');
    expect(groupOf('file:///repo/dist/bench/measure.js', 'f', ROOT)).toBe('bench harness');
    expect(groupOf('file:///repo/node_modules/kafkajs/src/producer/index.js', 'f', ROOT)).toBe('kafkajs');
    // A package's own src folder is the package, not a folder of ours.
    expect(groupOf('file:///repo/node_modules/kafkajs/src/decode/x.js', 'f', ROOT)).toBe('kafkajs');
    expect(groupOf('file:///repo/node_modules/a/node_modules/@scope/b/index.js', 'f', ROOT)).toBe('@scope/b');
    expect(groupOf('node:internal/streams/readable', 'f', ROOT)).toBe('node internals');
    expect(groupOf('', '(garbage collector)', ROOT)).toBe('GC');
    expect(groupOf('', '(program)', ROOT)).toBe('(program)');
    expect(groupOf('', '(anonymous)', ROOT)).toBe('V8 builtins');
    expect(groupOf('file:///elsewhere/x.js', 'f', ROOT)).toBe('other');
  });

  it('sums self time per group, largest first, with shares of the busy time', () => {
    const { total, rows } = selfTimes(profile());
    // 29 busy samples; the last sample of the profile has no following delta and counts 0 ms.
    // The last one is (idle), so every busy sample counts 1 ms.
    expect(total).toBe(29);
    const groups = groupSelfTimes(rows, ROOT);
    expect(groups.map((g) => [g.group, g.ms, g.functions])).toEqual([
      ['decode', 6, 1],
      ['avsc', 6, 2], // writeString 4 + its generated callee 2
      ['GC', 5, 1],
      ['enrich', 3, 1],
      ['ioredis', 2, 1],
      ['node internals', 2, 1],
      ['engine', 2, 2], // processBatch 1 + the builtin stringify it called 1
      ['@kafkajs/confluent-schema-registry', 1, 1],
      ['(program)', 1, 1],
      ['V8 builtins', 1, 1],
    ]);
    expect(groups[0].share).toBeCloseTo(6 / 29);
    // Node's Buffer code ran for the engine's processBatch.
    expect(groups.find((g) => g.group === 'node internals')!.calledFrom).toEqual(new Map([['engine', 2]]));
    expect(groups.reduce((s, g) => s + g.share, 0)).toBeCloseTo(1);
  });

  it('counts only samples inside the engine run window', () => {
    // Samples 1..26 end at t = 1000..26000 µs; keep t in [2000, 7000]: the rest of decode's six.
    const { total, rows } = selfTimes(profile(), { from: 2000, to: 7000 });
    expect(total).toBe(6);
    expect(groupSelfTimes(rows, ROOT).map((g) => g.group)).toEqual(['decode']);
  });

  it('prints the group table before the top functions', () => {
    const text = formatProfile(profile(), undefined, 3, ROOT);
    const lines = text.split('\n');
    expect(lines[0]).toBe('busy (non-idle) time 0.03 s; self time by src folder / package');
    const topAt = lines.findIndex((l) => l.startsWith('top 3 functions'));
    expect(lines.slice(2, topAt).map((l) => l.trim().split(/\s+/)[0])).toHaveLength(10);
    expect(lines[2]).toMatch(/^ 20\.7%\s+6 ms\s+decode \(1 function\)$/);
    expect(lines.find((l) => l.includes('node internals'))).toMatch(/node internals \(1 function; called from engine 100%\)$/);
    expect(lines.slice(topAt + 1)).toHaveLength(3);
    expect(lines[topAt + 1]).toMatch(/20\.7%\s+6 ms\s+decodeFrame/);
  });
});
