import crypto from 'node:crypto';
import { UserError } from '../errors';

export interface PseudonymKey {
  id: string;
  /** A KeyObject made once: createHmac would otherwise import the key for every value. */
  secret: crypto.KeyObject;
}

/**
 * TRACKLANE_PSEUDONYM_KEYS = `kid:secret[,kid2:secret2]`. The first key is active; the
 * others stay listed so that a rotation can be announced before it takes effect.
 * Errors never quote a secret.
 */
export function parsePseudonymKeys(raw: string | undefined): PseudonymKey[] {
  if (!raw || raw.trim() === '') {
    throw new UserError('TRACKLANE_PSEUDONYM_KEYS is not set, and the topology pseudonymizes personal data', [
      'set TRACKLANE_PSEUDONYM_KEYS=kid:secret (a secret of at least 16 characters); rotate by putting a new key first',
    ]);
  }
  const keys = raw.split(',').map((entry, i) => {
    const at = entry.indexOf(':');
    const id = entry.slice(0, at).trim();
    const secret = entry.slice(at + 1);
    if (at <= 0 || !/^[A-Za-z0-9_.-]{1,32}$/.test(id)) {
      throw new UserError(`TRACKLANE_PSEUDONYM_KEYS entry ${i + 1} has no valid key id before ':' (letters, digits, _ . -)`);
    }
    if (secret.length < 16) throw new UserError(`TRACKLANE_PSEUDONYM_KEYS key ${id} is shorter than 16 characters`);
    return { id, secret: crypto.createSecretKey(Buffer.from(secret, 'utf8')) };
  });
  const ids = new Set(keys.map((k) => k.id));
  if (ids.size !== keys.length) throw new UserError('TRACKLANE_PSEUDONYM_KEYS lists a key id twice');
  return keys;
}

/** `kid:hex` — HMAC-SHA256 of the value's text under the key, so joins still work across events. */
export function pseudonym(key: PseudonymKey, value: string): string {
  return `${key.id}:${crypto.createHmac('sha256', key.secret).update(value, 'utf8').digest('hex')}`;
}
