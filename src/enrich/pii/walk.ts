// Walks the string values of a decoded event: top-level fields, and what nested records,
// arrays and maps hold. Bytes, dates and numbers are left alone; map keys are not values.

export interface StringSite {
  /** RFC 6901 JSON pointer of the value, e.g. `/items/2/note`. */
  pointer: string;
  /** The pointer with array indexes (and map keys that are not name-like) as `*`: a bounded metric label. */
  label: string;
  value: string;
  /** Writes a new value in place of this one. */
  set(value: string): void;
}

const NAME_LIKE = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isContainer(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !ArrayBuffer.isView(v) && !(v instanceof Date) && !(v instanceof ArrayBuffer);
}

export function* stringSites(value: unknown, pointer: string, label: string, set: (v: string) => void): Generator<StringSite> {
  if (typeof value === 'string') {
    yield { pointer, label, value, set };
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield* stringSites(value[i], `${pointer}/${i}`, `${label}/*`, (v) => (value[i] = v));
  } else if (isContainer(value)) {
    for (const key of Object.keys(value)) {
      const part = escape(key);
      yield* stringSites(value[key], `${pointer}/${part}`, `${label}/${NAME_LIKE.test(key) ? part : '*'}`, (v) => (value[key] = v));
    }
  }
}
