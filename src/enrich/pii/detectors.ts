// One detector per kind of personal data or secret. Each finds candidate spans with a regex
// and keeps those that pass a validation the regex cannot express (a Luhn check, an address
// parser, a decoded JWT header, an entropy threshold). docs/pii-scan.md explains the choices.

import net from 'node:net';
import type { PiiKind } from '../../topology/types';
import { shannonEntropy } from './entropy';
import { luhnValid } from './luhn';

export type { PiiKind };

export interface Span {
  start: number;
  end: number;
}

export interface Detector {
  kind: PiiKind;
  find(text: string): Span[];
}

function spans(re: RegExp, text: string, keep: (match: string) => boolean = () => true): Span[] {
  const out: Span[] = [];
  for (const m of text.matchAll(re)) if (keep(m[0])) out.push({ start: m.index!, end: m.index! + m[0].length });
  return out;
}

const EMAIL = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])/g;

/**
 * Dotted quads not inside a longer dotted or word run: `v1.2.3.4`, `10.0.0.1.2` and
 * `1.2.3.4-beta` (a version with a pre-release tag) are not addresses; net.isIPv4 then
 * rejects octets above 255 and leading zeros.
 */
const IPV4 = /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d|-[A-Za-z]|\+)/g;
/** Colon-separated hex groups (optionally ending in a dotted quad), validated by net.isIPv6. */
const IPV6 = /(?<![\w:.%])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}(?![\w:])/g;

function ipv6Like(candidate: string): boolean {
  if (!net.isIPv6(candidate)) return false;
  // "::" alone, or "Ab::Cd" in a C++ or Perl name, parse as IPv6 but are not addresses.
  return (candidate.match(/:/g) ?? []).length >= 3 || /\d/.test(candidate);
}

/**
 * Phone numbers in three shapes, so that dates, ZIP codes, prices and order numbers (plain
 * digit runs) are never taken for one: international with a leading "+" (8 to 15 digits,
 * E.164), North American with separators (`(415) 555-2671`, `415-555-2671`, `415.555.2671`),
 * and national numbers with a trunk "0" in three groups (`020 7946 0958`).
 */
const PHONE_INTL = /(?<![\w+])\+\d(?:[ ().-]{0,2}\d){1,24}/g;
const PHONE_NANP = /(?<![\w.+-])(?:\([2-9]\d{2}\) ?[2-9]\d{2}[-. ]\d{4}|[2-9]\d{2}-[2-9]\d{2}-\d{4}|[2-9]\d{2}\.[2-9]\d{2}\.\d{4})(?!\w|[.-]\d)/g;
const PHONE_TRUNK = /(?<![\w.+-])0\d{1,4}[ -]\d{3,4}[ -]\d{3,4}(?!\w|[ .-]?\d)/g;

/** The longest prefix of an international candidate, cut at a separator, that is a phone number. */
function intlPhones(text: string): Span[] {
  const out: Span[] = [];
  for (const m of text.matchAll(PHONE_INTL)) {
    const candidate = m[0];
    const next = text[m.index! + candidate.length] ?? '';
    for (let end = candidate.length; end > 0; end--) {
      const cut = end === candidate.length ? !/\w/.test(next) : /[ ().-]/.test(candidate[end]) && /\d/.test(candidate[end - 1]);
      if (cut && intlPhone(candidate.slice(0, end))) {
        out.push({ start: m.index!, end: m.index! + end });
        break;
      }
    }
  }
  return out;
}

function intlPhone(candidate: string): boolean {
  const digits = candidate.replace(/\D/g, '').length;
  if (digits < 8 || digits > 15) return false;
  if (/[ .-]{2}|\(\)|\d\(/.test(candidate)) return false;
  const open = (candidate.match(/\(/g) ?? []).length;
  const close = (candidate.match(/\)/g) ?? []).length;
  return open === close && open <= 1;
}

/**
 * 13 to 19 digits, optionally grouped by single spaces or dashes (one kind, groups of 3 to 6,
 * the first of 4), starting with 2-6 (the major networks' ranges: Mastercard 2/5,
 * Amex/JCB/Diners 3, Visa 4, Discover 6) and passing the Luhn check. A run of digit groups is
 * searched left to right for its longest valid stretch of whole groups, so a card number
 * written next to a date or another number is still found.
 */
const DIGIT_RUN = /(?<![\w.,+-])\d+(?:[ -]\d+)*(?!\w|[.,]\d)/g;

function cardGroups(groups: string[], separators: string[]): boolean {
  const digits = groups.join('');
  if (digits.length < 13 || digits.length > 19 || !/^[2-6]/.test(digits) || !luhnValid(digits)) return false;
  if (groups.length === 1) return true;
  return new Set(separators).size === 1 && groups[0].length === 4 && groups.every((g) => g.length >= 3 && g.length <= 6);
}

function cards(text: string): Span[] {
  const out: Span[] = [];
  for (const m of text.matchAll(DIGIT_RUN)) {
    const groups = m[0].split(/[ -]/);
    const separators = m[0].match(/[ -]/g) ?? [];
    const starts: number[] = [];
    let at = m.index!;
    for (const g of groups) {
      starts.push(at);
      at += g.length + 1;
    }
    for (let i = 0; i < groups.length; i++) {
      // at most 19 digits, so at most 19 groups: keeps a long run of numbers linear
      for (let j = Math.min(groups.length - 1, i + 18); j >= i; j--) {
        if (!cardGroups(groups.slice(i, j + 1), separators.slice(i, j))) continue;
        out.push({ start: starts[i], end: starts[j] + groups[j].length });
        i = j;
        break;
      }
    }
  }
  return out;
}

/** Tokens with a fixed, documented prefix: a match is a secret whatever follows. */
const SECRET_PREFIXES: RegExp[] = [
  /\bgh[pousr]_[A-Za-z0-9]{36,255}\b/g, // GitHub tokens
  /\bgithub_pat_[A-Za-z0-9_]{22,255}\b/g, // GitHub fine-grained tokens
  /\bxox[bpas]-[A-Za-z0-9-]{10,250}/g, // Slack
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, // AWS access key ids
  /\b[sr]k_live_[A-Za-z0-9]{16,247}\b/g, // Stripe live keys
  /\bglpat-[A-Za-z0-9_-]{20,}/g, // GitLab personal access tokens
  /\bnpm_[A-Za-z0-9]{36}\b/g, // npm tokens
  /\bAIza[0-9A-Za-z_-]{35}(?![\w-])/g, // Google API keys
  /-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----[\s\S]*?-----END [A-Z ]{0,20}PRIVATE KEY-----/g,
];

/** Three base64url parts whose first decodes to a JSON header naming an algorithm. */
const JWT = /(?<![\w-])eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*(?![\w-])/g;

function jwt(candidate: string): boolean {
  try {
    const header = JSON.parse(Buffer.from(candidate.slice(0, candidate.indexOf('.')), 'base64url').toString('utf8')) as unknown;
    return typeof header === 'object' && header !== null && typeof (header as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

/**
 * A long run of base64/base64url characters that looks random: at least MIN_SECRET_LENGTH
 * characters, upper- and lower-case letters and digits, and a Shannon entropy of at least
 * SECRET_ENTROPY_BITS per character, and a character class (upper, lower, digit, symbol)
 * that changes between at least MIN_CLASS_CHANGES of neighbouring characters: random text
 * changes class about 60% of the time, camelCase names (`checkoutPaymentConfirmedV2Event`,
 * two changes per word) about 20-30%. Hex strings (UUIDs, trace ids, digests, `kid:hex`
 * pseudonyms) are never flagged: a hex secret cannot be told from a hash. Nor are paths
 * (a leading "/" or "//" inside).
 */
export const MIN_SECRET_LENGTH = 24;
export const SECRET_ENTROPY_BITS = 4.0;
export const MIN_CLASS_CHANGES = 0.4;

function charClass(c: string): number {
  return /[a-z]/.test(c) ? 0 : /[A-Z]/.test(c) ? 1 : /\d/.test(c) ? 2 : 3;
}

function classChangeRate(token: string): number {
  let changes = 0;
  for (let i = 1; i < token.length; i++) if (charClass(token[i]) !== charClass(token[i - 1])) changes++;
  return changes / (token.length - 1);
}
const HIGH_ENTROPY = /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{24,}={0,2}(?![A-Za-z0-9+/=_-])/g;

export function highEntropyToken(token: string): boolean {
  if (token.length < MIN_SECRET_LENGTH) return false;
  if (/^[0-9A-Fa-f-]+$/.test(token)) return false;
  if (token.startsWith('/') || token.includes('//')) return false;
  if (!/[a-z]/.test(token) || !/[A-Z]/.test(token) || !/\d/.test(token)) return false;
  const body = token.replace(/=+$/, '');
  return shannonEntropy(body) >= SECRET_ENTROPY_BITS && classChangeRate(body) >= MIN_CLASS_CHANGES;
}

/**
 * In the order they claim text: a span found by an earlier detector hides overlapping
 * candidates of later ones (an e-mail's domain is not also checked as a token, a card number
 * is not also a phone number, the generic entropy rule comes last).
 */
export const DETECTORS: readonly Detector[] = [
  { kind: 'secret', find: (t) => [...SECRET_PREFIXES.flatMap((re) => spans(re, t)), ...spans(JWT, t, jwt)] },
  { kind: 'email', find: (t) => spans(EMAIL, t) },
  { kind: 'ip', find: (t) => [...spans(IPV6, t, ipv6Like), ...spans(IPV4, t, (c) => net.isIPv4(c))] },
  { kind: 'card', find: cards },
  { kind: 'phone', find: (t) => [...intlPhones(t), ...spans(PHONE_NANP, t), ...spans(PHONE_TRUNK, t)] },
  { kind: 'secret', find: (t) => spans(HIGH_ENTROPY, t, highEntropyToken) },
];
