import fs from 'node:fs';
import path from 'node:path';
import type { GoldenCase } from './case';
import type { GoldenRecord } from './normalize';
import type { GoldenOutputs, OutputName } from './run';

// expected/<output>.jsonl: one normalized record per line, in the runner's order. Every
// output of the topology has a file; an empty file means "no record".

export function expectedFile(c: GoldenCase, output: string): string {
  return path.join(c.expectedDir, `${output}.jsonl`);
}

export function readExpected(c: GoldenCase, outputs: readonly OutputName[]): Map<OutputName, GoldenRecord[]> {
  const out = new Map<OutputName, GoldenRecord[]>();
  for (const output of outputs) {
    const file = expectedFile(c, output);
    if (!fs.existsSync(file)) throw new Error(`${path.relative(process.cwd(), file)} is missing: every output needs a file (empty for none); GOLDEN_UPDATE=1 writes them from a run`);
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
    out.set(output, lines.map((l, i) => {
      try {
        return JSON.parse(l) as GoldenRecord;
      } catch (err) {
        throw new Error(`${file}:${i + 1}: not JSON: ${(err as Error).message}`);
      }
    }));
  }
  return out;
}

export function writeExpected(c: GoldenCase, actual: GoldenOutputs): void {
  fs.mkdirSync(c.expectedDir, { recursive: true });
  for (const [output, records] of actual) {
    fs.writeFileSync(expectedFile(c, output), records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : ''));
  }
}
