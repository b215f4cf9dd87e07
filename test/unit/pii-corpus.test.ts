import { findPii } from '../../src/enrich/pii/scan';
import { PII_KINDS } from '../../src/topology/steps';
import type { PiiKind } from '../../src/topology/types';
import { piiCorpus } from '../helpers/pii-corpus';

// Issue 14 "Must show": recall and precision per kind over a seeded corpus of planted values
// and look-alikes. A finding is right when it covers a planted value of its kind whole (so that
// pseudonymizing it leaves nothing of the value behind).

describe('pii-scan detectors over a seeded corpus', () => {
  const corpus = piiCorpus(20260105, 1500);
  const kinds = new Set(PII_KINDS);
  const stats = new Map<PiiKind, { planted: number; found: number; reported: number; correct: number }>(PII_KINDS.map((k) => [k, { planted: 0, found: 0, reported: 0, correct: 0 }]));
  const misses: string[] = [];
  const falsePositives: string[] = [];
  for (const field of corpus) {
    const findings = findPii(field.text, kinds);
    for (const p of field.planted) {
      const s = stats.get(p.kind)!;
      s.planted++;
      if (findings.some((f) => f.kind === p.kind && f.start <= p.start && f.end >= p.end)) s.found++;
      else misses.push(`${p.kind}: ${field.text.slice(p.start, p.end)}  in  ${field.text}`);
    }
    for (const f of findings) {
      const s = stats.get(f.kind)!;
      s.reported++;
      if (field.planted.some((p) => p.kind === f.kind && f.start <= p.start && f.end >= p.end)) s.correct++;
      else falsePositives.push(`${f.kind}: ${field.text.slice(f.start, f.end)}  in  ${field.text}`);
    }
  }
  const table = PII_KINDS.map((kind) => {
    const s = stats.get(kind)!;
    return { kind, planted: s.planted, recall: s.found / s.planted, reported: s.reported, precision: s.correct / s.reported };
  });

  it('prints recall and precision per kind', () => {
    const lines = [
      `pii-scan corpus: ${corpus.length} fields, seed 20260105`,
      'kind     planted  recall   reported  precision',
      ...table.map((t) => `${t.kind.padEnd(8)} ${String(t.planted).padStart(7)}  ${t.recall.toFixed(4)}  ${String(t.reported).padStart(8)}  ${t.precision.toFixed(4)}`),
    ];
    if (misses.length) lines.push('missed:', ...misses.slice(0, 20));
    if (falsePositives.length) lines.push('false positives:', ...falsePositives.slice(0, 20));
    console.log(lines.join('\n'));
    expect(corpus.length).toBeGreaterThanOrEqual(1000);
    for (const t of table) expect(t.planted).toBeGreaterThanOrEqual(100);
  });

  it.each(['email', 'ip', 'card'] as PiiKind[])('finds at least 99%% of planted %s values', (kind) => {
    expect(table.find((t) => t.kind === kind)!.recall).toBeGreaterThanOrEqual(0.99);
  });

  it.each([...PII_KINDS])('%s findings are at least 95%% right', (kind) => {
    expect(table.find((t) => t.kind === kind)!.precision).toBeGreaterThanOrEqual(0.95);
  });
});
