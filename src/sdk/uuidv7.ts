import { randomBytes, randomInt } from 'node:crypto';

/**
 * UUID version 7 (RFC 9562): 48-bit Unix milliseconds, version 7, 12-bit `rand_a`, variant
 * 0b10, 62 random bits. `rand_a` is a counter seeded at random each millisecond (RFC 9562
 * section 6.2, method 1), so ids made in one process sort in creation order even within a
 * millisecond and when the wall clock steps back. The seed stays below 0x800, leaving at
 * least 2,048 increments before the counter spills into the next millisecond.
 */
let lastMs = -1;
let counter = 0;

export function uuidv7(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    counter = randomInt(0, 0x800);
  } else if (++counter > 0xfff) {
    lastMs++; // borrow from the next millisecond rather than repeat or go backwards
    counter = randomInt(0, 0x800);
  }
  const b = randomBytes(16);
  b.writeUIntBE(lastMs, 0, 6);
  b[6] = 0x70 | (counter >> 8);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (b[8] & 0x3f);
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The creation time (epoch ms) a UUIDv7 carries. */
export function uuidv7Time(id: string): number {
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}
