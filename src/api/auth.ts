import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { BaliseError } from '../errors.js';

/** SHA-256 hex of a token, as written in `admin.tokens`. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new random API token (256 bits, URL-safe) and the hash to put in the config. */
export function newToken(): { token: string; hash: string } {
  const token = `bls_${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashToken(token) };
}

/**
 * Checks `Authorization: Bearer <token>` against the configured hashes in constant time; returns
 * the matching hash (used as the rate-limit key). Tokens are never logged or echoed.
 */
export function authenticate(request: FastifyRequest, hashes: readonly string[]): string {
  if (hashes.length === 0) {
    throw new BaliseError(
      'unauthorized',
      'the API is disabled: no admin.tokens in the config (make one with: balise token new)',
    );
  }
  const match = /^Bearer\s+(\S{1,512})$/i.exec(request.headers.authorization ?? '');
  if (!match) throw new BaliseError('unauthorized', 'send Authorization: Bearer <token>');
  const presented = Buffer.from(hashToken(match[1]!), 'hex');
  let found: string | undefined;
  for (const hash of hashes) {
    const expected = Buffer.from(hash.replace(/^sha256:/, ''), 'hex');
    if (expected.length === presented.length && timingSafeEqual(expected, presented)) found = hash;
  }
  if (!found) throw new BaliseError('unauthorized', 'unknown token');
  return found;
}
