import { randomBytes, scrypt, scryptSync, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt cost of new hashes: N = 2^17, r = 8, p = 1 (OWASP's minimum; ≈ 128 MiB and 0.5 s here). */
export const SCRYPT_N = 131_072;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;

/** Memory scrypt needs for N and r, with room to spare (Node refuses above `maxmem`). */
const maxmem = (n: number, r: number): number => 128 * n * r + 32 * 1024 * 1024;

/** `scrypt$N$r$p$salt$hash` (base64) of a password, for `admin.passwordHash`. */
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, KEY_LENGTH, {
    N: SCRYPT_N,
    r: R,
    p: P,
    maxmem: maxmem(SCRYPT_N, R),
  });
  return `scrypt$${SCRYPT_N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** The parameters of a stored hash, or null when it is not one `hashPassword` could have made. */
function parseHash(stored: string): { options: ScryptOptions; salt: Buffer; hash: Buffer } | null {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  const N = Number(n);
  const rr = Number(r);
  const pp = Number(p);
  if (kind !== 'scrypt' || !salt || !hash) return null;
  // Bounds: a hash from the file must not make a login allocate gigabytes or spin for minutes.
  if (!Number.isInteger(N) || N < 2 || N > 2 ** 20 || (N & (N - 1)) !== 0) return null;
  if (!Number.isInteger(rr) || rr < 1 || rr > 32 || !Number.isInteger(pp) || pp < 1 || pp > 16) return null;
  return {
    options: { N, r: rr, p: pp, maxmem: maxmem(N, rr) },
    salt: Buffer.from(salt, 'base64'),
    hash: Buffer.from(hash, 'base64'),
  };
}

/**
 * Checks a password against an `admin.passwordHash`, in constant time, on libuv's thread pool
 * (never on the event loop: a login must not stall collect). Hashes made with a lower cost by
 * earlier versions (N = 2^14) still verify.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (!parsed || parsed.hash.length === 0) return false;
  const actual = await new Promise<Buffer>((resolve, reject) =>
    scrypt(password, parsed.salt, parsed.hash.length, parsed.options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
  return actual.length === parsed.hash.length && timingSafeEqual(actual, parsed.hash);
}

/** True when a stored hash costs less than new ones (make a new one with `balise password hash`). */
export function isWeakHash(stored: string): boolean {
  const parsed = parseHash(stored);
  return parsed !== null && (parsed.options.N ?? 0) < SCRYPT_N;
}
