import fs from 'node:fs';

// A small seeded PRNG for the fuzz suites: the seed is printed, and FUZZ_SEED=<n> replays a run.

export interface Rng {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max], both included. */
  int(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  bytes(n: number): Buffer;
  /** A string of n characters from `alphabet`. */
  text(n: number, alphabet?: string): string;
}

/** FUZZ_SEED from the environment, else a fresh one. */
export function fuzzSeed(): number {
  const fromEnv = process.env.FUZZ_SEED;
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv);
    if (!Number.isInteger(n)) throw new Error(`FUZZ_SEED=${fromEnv}: expected an integer`);
    return n >>> 0;
  }
  return (Date.now() ^ (Math.random() * 0x1_0000_0000)) >>> 0;
}

/** mulberry32: tiny, fast and good enough to pick test cases. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return {
    seed,
    next,
    int,
    chance: (p) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)],
    bytes(n) {
      // Past 4 KiB a random block repeats: garbage all the same, and megabytes stay cheap.
      const block = Buffer.alloc(Math.min(n, 4096));
      let word = 0;
      for (let i = 0; i < block.length; i++) {
        if ((i & 3) === 0) word = (next() * 0x1_0000_0000) >>> 0;
        block[i] = (word >>> (8 * (i & 3))) & 0xff;
      }
      return n <= block.length ? block : Buffer.alloc(n, block);
    },
    text(n, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789') {
      let s = '';
      for (let i = 0; i < n; i++) s += alphabet[Math.floor(next() * alphabet.length)];
      return s;
    },
  };
}

/** Peak resident set size of a process, sampled from /proc/<pid>/status (Linux). */
export class RssSampler {
  peakKb = 0;
  samples = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly pid: number, private readonly everyMs = 500) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.sample();
  }

  get peakMb(): number {
    return Math.round(this.peakKb / 1024);
  }

  private sample(): void {
    const kb = rssKb(this.pid);
    if (kb === undefined) return;
    this.samples++;
    this.peakKb = Math.max(this.peakKb, kb);
  }
}

export function rssKb(pid: number): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined; // the process is gone
  }
}
