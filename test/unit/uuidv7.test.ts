import { uuidv7, uuidv7Time } from '../../src/sdk/uuidv7';

const SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('has version nibble 7 and RFC 9562 variant bits 10', () => {
    for (let i = 0; i < 1000; i++) {
      const id = uuidv7();
      expect(id).toMatch(SHAPE);
      const bytes = Buffer.from(id.replace(/-/g, ''), 'hex');
      expect(bytes).toHaveLength(16);
      expect(bytes[6] >> 4).toBe(7);
      expect(bytes[8] >> 6).toBe(0b10);
    }
  });

  // Before the tests that move the clock forward: the generator's state is per process.
  it('sorts in creation order across a tight loop with the real clock', () => {
    const ids = Array.from({ length: 5000 }, () => uuidv7());
    expect([...ids].sort()).toEqual(ids);
  });

  it('carries the creation time in its first 48 bits', () => {
    const before = Date.now();
    const id = uuidv7();
    const after = Date.now();
    expect(uuidv7Time(id)).toBeGreaterThanOrEqual(before);
    expect(uuidv7Time(id)).toBeLessThanOrEqual(after + 1);
    expect(uuidv7Time(uuidv7(Date.UTC(2030, 0, 1)))).toBe(Date.UTC(2030, 0, 1));
  });

  it('is strictly increasing within one millisecond, even past the 12-bit counter', () => {
    const ms = Date.UTC(2031, 5, 1);
    const ids = Array.from({ length: 10_000 }, () => uuidv7(ms));
    for (let i = 1; i < ids.length; i++) expect(ids[i] > ids[i - 1]).toBe(true);
    expect(uuidv7Time(ids[0])).toBe(ms);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('never goes backwards when the clock does', () => {
    const a = uuidv7(Date.UTC(2032, 0, 1, 0, 0, 1));
    const b = uuidv7(Date.UTC(2032, 0, 1, 0, 0, 0));
    expect(b > a).toBe(true);
  });
});
