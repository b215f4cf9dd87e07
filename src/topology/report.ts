// Problems -> `file:line:col path: message` lines in one UserError. Shared by the loader and
// by checks that run after loading (CEL type checks against the registry's reader schema at
// engine start), which read the file again for positions.

import fs from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { UserError } from '../errors';
import { YamlPositions, type Position } from './positions';
import type { Problem } from './semantic';

export function locate(positions: YamlPositions, data: unknown, problems: readonly Problem[]): Array<Position & { text: string }> {
  return problems.map((p) => {
    const at =
      p.celOffset !== undefined
        ? positions.inScalar(p.path, String(valueAt(data, p.path)), p.celOffset)
        : p.missing
          ? positions.parentOf(p.path)
          : positions.at(p.path, { key: p.atKey });
    return { ...at, text: `${formatPath(p.path)}: ${p.message}` };
  });
}

/** Problems found in an already loaded topology file, positioned by reading the file again. */
export function describeProblems(file: string, problems: readonly Problem[]): UserError {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    const details = problems.map((p) => `${file} ${formatPath(p.path)}: ${p.message}`);
    return new UserError(`${file}: invalid topology (${details.length} error${details.length === 1 ? '' : 's'})`, details);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  return invalid(file, locate(new YamlPositions(doc, lineCounter, text), doc.toJS({ maxAliasCount: 100 }), problems));
}

export function valueAt(data: unknown, at: readonly PropertyKey[]): unknown {
  let v: unknown = data;
  for (const seg of at) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

export function formatPath(at: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of at) out += typeof seg === 'number' ? `[${seg}]` : `${out ? '.' : ''}${String(seg)}`;
  return out || '(document)';
}

export function invalid(fileName: string, messages: Array<Position & { text: string }>): UserError {
  const seen = new Set<string>();
  const details = messages
    .sort((a, b) => a.line - b.line || a.col - b.col)
    .map((m) => `${fileName}:${m.line}:${m.col} ${m.text}`)
    .filter((d) => (seen.has(d) ? false : (seen.add(d), true)));
  const n = details.length;
  return new UserError(`${fileName}: invalid topology (${n} error${n === 1 ? '' : 's'})`, details);
}

