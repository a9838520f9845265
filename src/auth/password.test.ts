import { randomBytes, scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashPassword, isWeakHash, verifyPassword } from './password.js';

describe('dashboard password hashes', () => {
  it('verifies hashes made by earlier versions (N = 2^14) and calls them weak', async () => {
    const salt = randomBytes(16);
    const old = `scrypt$16384$8$1$${salt.toString('base64')}$${scryptSync('old secret', salt, 32, { N: 16384, r: 8, p: 1 }).toString('base64')}`;
    expect(await verifyPassword('old secret', old)).toBe(true);
    expect(await verifyPassword('old secreT', old)).toBe(false);
    expect(isWeakHash(old)).toBe(true);
    expect(isWeakHash(hashPassword('new secret'))).toBe(false);
  });

  it('refuses a hash whose cost would exhaust the machine instead of trying it', async () => {
    const salt = randomBytes(16).toString('base64');
    expect(await verifyPassword('x', `scrypt$4294967296$8$1$${salt}$${salt}`)).toBe(false);
    expect(await verifyPassword('x', `scrypt$1000$8$1$${salt}$${salt}`)).toBe(false);
    expect(await verifyPassword('x', `scrypt$16384$800$1$${salt}$${salt}`)).toBe(false);
  });
});
