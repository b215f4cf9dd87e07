// Number formats of the status page. client-script.ts repeats them for the browser's
// updates; keep the two in step (test/integration/status-page.test.ts compares a cell
// rendered by each).

export const DASH = '\u2014';

export function formatCount(n: number | null | undefined): string {
  return n === null || n === undefined ? DASH : Math.round(n).toLocaleString('en-US');
}

export function formatRate(n: number | null | undefined): string {
  if (n === null || n === undefined) return DASH;
  return `${n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1)}/s`;
}

/** 0.99953 -> "99.953%": SLIs live near 100 %, so three decimals. */
export function formatRatio(r: number | null | undefined): string {
  return r === null || r === undefined ? DASH : `${(r * 100).toFixed(3)}%`;
}

/** The objective as written: 0.999 -> "99.9%". */
export function formatObjective(o: number): string {
  return `${Number((o * 100).toFixed(4))}%`;
}

export function formatBudget(b: number | null | undefined): string {
  if (b === null || b === undefined) return DASH;
  return `${(b * 100).toFixed(1).replace('-', '\u2212')}%`;
}

export function formatBurn(b: number | null | undefined): string {
  if (b === null || b === undefined) return DASH;
  return `${b >= 100 ? Math.round(b) : b.toFixed(2)}\u00d7`;
}

export function formatThreshold(t: number): string {
  return `${Number(t.toFixed(2))}\u00d7`;
}
