// A seeded corpus of text fields for the pii-scan detectors: planted values of every kind
// (their spans recorded) mixed with look-alikes that must not be found (versions, order
// numbers failing Luhn, UUIDs, timestamps, digests, prices, ZIP codes, paths, ...).

import { luhnValid } from '../../src/enrich/pii/luhn';
import type { PiiKind } from '../../src/topology/types';
import { prng } from '../../src/demo/traffic';

export interface Planted {
  kind: PiiKind;
  start: number;
  end: number;
}
export interface CorpusField {
  text: string;
  planted: Planted[];
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const chars = (r: Rand, alphabet: string, n: number): string => Array.from({ length: n }, () => pick(r, [...alphabet])).join('');
const HEX = '0123456789abcdef';
const DIGITS = '0123456789';
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const B64URL = BASE62 + '-_';

function luhnComplete(prefix: string, length: number, r: Rand): string {
  const body = prefix + chars(r, DIGITS, length - prefix.length - 1);
  for (let d = 0; d <= 9; d++) if (luhnValid(body + d)) return body + d;
  throw new Error('unreachable');
}

function groupCard(digits: string, sep: string, groups: number[]): string {
  const parts: string[] = [];
  let at = 0;
  for (const g of groups) {
    parts.push(digits.slice(at, at + g));
    at += g;
  }
  if (at < digits.length) parts.push(digits.slice(at));
  return parts.join(sep);
}

const b64url = (s: string): string => Buffer.from(s).toString('base64url');

const PLANTERS: Record<PiiKind, (r: Rand) => string> = {
  email: (r) => {
    const first = pick(r, ['ada', 'bob', 'Grace', 'linus', 'm.curie', 'o_brien', 'jean-luc', 'zoe']);
    const local = pick(r, [first, `${first}.${pick(r, ['smith', 'lovelace', 'hopper'])}`, `${first}+${pick(r, ['news', 'shop'])}`, `${first}${int(r, 1, 99)}`]);
    return `${local}@${pick(r, ['example.com', 'mail.example.org', 'example.co.uk', 'corp-mail.example.net', 'EXAMPLE.IO'])}`;
  },
  ip: (r) => {
    const v4 = () => [int(r, 1, 223), int(r, 0, 255), int(r, 0, 255), int(r, 1, 254)].join('.');
    const group = () => int(r, 0, 0xffff).toString(16);
    return pick(r, [
      v4,
      v4,
      () => Array.from({ length: 8 }, group).join(':'),
      () => `2001:db8::${group()}:${group()}`,
      () => `fe80::${group()}`,
      () => `::ffff:${v4()}`,
    ])();
  },
  phone: (r) =>
    pick(r, [
      () => `+1 ${int(r, 201, 989)} ${int(r, 200, 999)} ${chars(r, DIGITS, 4)}`,
      () => `+44 20 ${int(r, 7000, 8999)} ${chars(r, DIGITS, 4)}`,
      () => `+49 30 ${chars(r, DIGITS, 7)}`,
      () => `+33 6 ${chars(r, DIGITS, 2)} ${chars(r, DIGITS, 2)} ${chars(r, DIGITS, 2)} ${chars(r, DIGITS, 2)}`,
      () => `+1${int(r, 201, 989)}${int(r, 200, 999)}${chars(r, DIGITS, 4)}`,
      () => `(${int(r, 201, 989)}) ${int(r, 200, 999)}-${chars(r, DIGITS, 4)}`,
      () => `${int(r, 201, 989)}-${int(r, 200, 999)}-${chars(r, DIGITS, 4)}`,
      () => `020 ${int(r, 7000, 8999)} ${chars(r, DIGITS, 4)}`,
    ])(),
  card: (r) => {
    const [prefix, length, groups] = pick(r, [
      ['4', 16, [4, 4, 4, 4]],
      ['5' + int(r, 1, 5), 16, [4, 4, 4, 4]],
      ['2' + int(r, 221, 720), 16, [4, 4, 4, 4]],
      ['3' + pick(r, ['4', '7']), 15, [4, 6, 5]],
      ['6011', 16, [4, 4, 4, 4]],
      ['35' + int(r, 28, 89), 16, [4, 4, 4, 4]],
      ['4', 13, [4, 4, 5]],
      ['4', 19, [4, 4, 4, 4, 3]],
    ] as Array<[string, number, number[]]>);
    const digits = luhnComplete(prefix, length, r);
    return groupCard(digits, pick(r, ['', ' ', '-']), groups);
  },
  secret: (r) =>
    pick(r, [
      () => `ghp_${chars(r, BASE62, 36)}`,
      () => `github_pat_${chars(r, BASE62, 22)}_${chars(r, BASE62, 59)}`,
      () => `xoxb-${chars(r, DIGITS, 12)}-${chars(r, DIGITS, 12)}-${chars(r, BASE62, 24)}`,
      () => `AKIA${chars(r, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`,
      () => `sk_live_${chars(r, BASE62, 24)}`,
      () => `glpat-${chars(r, B64URL, 20)}`,
      () => `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify({ sub: `u-${int(r, 1, 9999)}`, iat: 1767607200 + int(r, 0, 1e6) }))}.${chars(r, B64URL, 43)}`,
      () => chars(r, BASE62, int(r, 32, 48)),
      () => chars(r, BASE62 + '+/', 40),
    ])(),
};

const TEMPLATES: Record<PiiKind, string[]> = {
  email: ['contact {} for details', 'from: {}', 'reply-to={}', '<{}>', '{}', 'sent to {}.'],
  ip: ['request from {} failed', 'client_ip={}', 'peer {}, retrying', '{}', 'x-forwarded-for: {}'],
  phone: ['call {} tomorrow', 'tel: {}', 'phone={}', '{}', 'mobile ({}) ok'.replace('({})', '{}')],
  card: ['card {} declined', 'pan={}', '{}', 'paid with {}.'],
  secret: ['token {} expired', 'Authorization: Bearer {}', 'api_key={}', '{}', 'GITHUB_TOKEN={}'],
};

/** Strings that look like a kind but are none: any finding on them is a false positive. */
const LOOK_ALIKES: Array<(r: Rand) => string> = [
  (r) => `version ${int(r, 0, 9)}.${int(r, 0, 20)}.${int(r, 0, 9)}.${int(r, 0, 9)}-beta`,
  (r) => `10.0.${int(r, 0, 9)}.${int(r, 1, 9)}.${int(r, 1, 9)}`,
  (r) => `v${int(r, 1, 9)}.${int(r, 0, 9)}.${int(r, 0, 9)}.${int(r, 0, 99)}`,
  (r) => `release ${int(r, 1, 5)}.${int(r, 0, 30)}.${int(r, 0, 9)}`,
  (r) => {
    const valid = luhnComplete(pick(r, ['4', '5', '3', '6', '1', '9']), 16, r);
    return `order #${valid.slice(0, 15)}${(Number(valid[15]) + int(r, 1, 9)) % 10}`;
  },
  (r) => `order ${chars(r, '789', 1)}${chars(r, DIGITS, 15)}`,
  (r) => [8, 4, 4, 4, 12].map((n) => chars(r, HEX, n)).join('-'),
  (r) => new Date(Date.UTC(2026, 0, 1) + int(r, 0, 3e10)).toISOString(),
  (r) => chars(r, HEX, pick(r, [32, 40, 64, 128])),
  (r) => `sha256:${chars(r, HEX, 64)}`,
  (r) => `k1:${chars(r, HEX, 64)}`,
  (r) => `00-${chars(r, HEX, 32)}-${chars(r, HEX, 16)}-01`,
  (r) => pick(r, [`$${int(r, 1, 9)},${int(r, 100, 999)}.${int(r, 10, 99)}`, `EUR ${int(r, 1, 999)}.${int(r, 10, 99)}`, `+${int(r, 1, 99)}.${int(r, 1, 9)}%`, `price: ${int(r, 1000, 99999)}`]),
  (r) => pick(r, [`${int(r, 10000, 99999)}`, `${int(r, 10000, 99999)}-${int(r, 1000, 9999)}`, 'SW1A 1AA', `D-${int(r, 10000, 99999)} Berlin`]),
  (r) =>
    pick(r, [
      `/var/log/tracklane/2026-01-${int(r, 10, 28)}.log`,
      `C:\\Users\\Ada\\Documents\\Report${int(r, 2000, 2030)}.pdf`,
      'src/enrich/pii/detectors.ts',
      './node_modules/.bin/jest',
      `/home/ada/Projects/Tracklane${int(r, 1, 9)}/build/Output${int(r, 10, 99)}/bundle.js`,
      `s3://bucket-${int(r, 1, 99)}/Exports/2026/01/Part${int(r, 100, 999)}.parquet`,
    ]),
  (r) => `${1767607200000 + int(r, 0, 1e9)}`,
  (r) => pick(r, [`lodash@4.17.${int(r, 1, 21)}`, '@scope/pkg', `node@20.${int(r, 0, 18)}.0`]),
  (r) => pick(r, [`${int(r, 10, 23)}:${int(r, 10, 59)}:${int(r, 10, 59)}`, Array.from({ length: 6 }, () => chars(r, HEX, 2)).join(':'), 'std::vector', '::']),
  (r) => pick(r, ['2026-01-05', '05.01.2026', '12/31/2026', `${int(r, 1, 9)} items for ${int(r, 100, 9999)} points in 2025`]),
  (r) => pick(r, ['checkoutPaymentConfirmedV2Event', 'order_2024_11_checkout_confirmed', 'AbstractSingletonProxyFactoryBean2', `utm_source=newsletter&utm_campaign=spring${int(r, 2020, 2030)}`]),
  (r) => `account ${chars(r, DIGITS, 8)}, invoice INV-${chars(r, DIGITS, 10)}`,
  (r) => `https://shop.example.com/p/${chars(r, 'abcdefghijklmnop', 10)}?ref=home&page=${int(r, 1, 50)}`,
];

/** `count` fields; about two thirds carry one or two planted values, each has look-alikes. */
export function piiCorpus(seed: number, count: number): CorpusField[] {
  const r = prng(seed);
  const kinds: PiiKind[] = ['email', 'ip', 'phone', 'card', 'secret'];
  const fields: CorpusField[] = [];
  for (let i = 0; i < count; i++) {
    let text = '';
    const planted: Planted[] = [];
    const parts = int(r, 1, 3);
    for (let p = 0; p < parts; p++) {
      if (text) text += pick(r, [' ', ', ', '; ', ' | ']);
      if (r() < 0.45) {
        const kind = pick(r, kinds);
        const value = PLANTERS[kind](r);
        const [before, after] = pick(r, TEMPLATES[kind]).split('{}');
        text += before;
        planted.push({ kind, start: text.length, end: text.length + value.length });
        text += value + after;
      } else {
        text += pick(r, LOOK_ALIKES)(r);
      }
    }
    fields.push({ text, planted });
  }
  return fields;
}
