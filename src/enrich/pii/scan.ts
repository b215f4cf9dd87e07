import { DETECTORS, type PiiKind } from './detectors';

export interface PiiFinding {
  kind: PiiKind;
  start: number;
  end: number;
}

/** Every detected value in `text`, without overlaps, in text order. */
export function findPii(text: string, kinds: ReadonlySet<PiiKind>): PiiFinding[] {
  const found: PiiFinding[] = [];
  if (text.length < 3) return found; // "::1" is the shortest value any detector finds
  // one flag per character already claimed by a finding: overlap checks stay linear
  const claimed = new Uint8Array(text.length);
  for (const detector of DETECTORS) {
    if (!kinds.has(detector.kind)) continue;
    for (const span of detector.find(text)) {
      if (claimed.subarray(span.start, span.end).includes(1)) continue;
      claimed.fill(1, span.start, span.end);
      found.push({ kind: detector.kind, ...span });
    }
  }
  return found.sort((a, b) => a.start - b.start);
}

/** `text` with each finding replaced by `replace(value)`. */
export function replaceFindings(text: string, findings: readonly PiiFinding[], replace: (value: string) => string): string {
  let out = '';
  let at = 0;
  for (const f of findings) {
    out += text.slice(at, f.start) + replace(text.slice(f.start, f.end));
    at = f.end;
  }
  return out + text.slice(at);
}
