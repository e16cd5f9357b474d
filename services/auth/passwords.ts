import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Salted scrypt hashes, stored as `scrypt$N$salt$hash`. People's passwords get the full cost.
 * Device secrets are 32 random bytes, so a slow hash adds nothing against guessing them, but a
 * whole fleet reconnects at once after an outage: they get a cost of 2^10 (~1 ms each here).
 */
export const USER_COST = 16_384;
export const DEVICE_COST = 1_024;
const KEY_LEN = 32;

function derive(secret: string, salt: Buffer, N: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, KEY_LEN, { N, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashSecret(secret: string, N: number): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(secret, salt, N);
  return `scrypt$${N}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await derive(secret, Buffer.from(salt, 'base64'), Number(n));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** URL-safe random token: device secrets, session ids, generated passwords. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
