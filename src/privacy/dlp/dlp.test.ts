import { describe, expect, it } from 'vitest';
import { ibanValid, luhnValid, nirValid } from './checksums.js';
import { scanText } from './scan.js';

describe('checksums', () => {
  it('validates Luhn (cards, SIREN, SIRET)', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('732829320')).toBe(true);
    expect(luhnValid('73282932000074')).toBe(true);
  });
  it('validates IBAN mod-97', () => {
    expect(ibanValid('FR76 3000 6000 0112 3456 7890 189')).toBe(true);
    expect(ibanValid('FR76 3000 6000 0112 3456 7890 188')).toBe(false);
    expect(ibanValid('DE89370400440532013000')).toBe(true);
  });
  it('validates the French NIR key, including Corsica 2A/2B', () => {
    expect(nirValid('1 85 05 78 006 084 91')).toBe(true);
    expect(nirValid('1 85 05 78 006 084 92')).toBe(false);
    expect(nirValid('2 69 05 2A 123 456 88')).toBe(true);
    expect(nirValid('2 69 05 2B 123 456 88')).toBe(false);
  });
});

describe('scanText', () => {
  it.each([
    ['write to jane.doe@example.fr now', 'write to [redacted:email] now', 'email'],
    ['IBAN FR76 3000 6000 0112 3456 7890 189 please', 'IBAN [redacted:iban] please', 'iban'],
    ['nir 1 85 05 78 006 084 91', 'nir [redacted:nir]', 'nir'],
    ['nir 269052A12345688', 'nir [redacted:nir]', 'nir'],
    ['card 4111 1111 1111 1111 exp', 'card [redacted:card] exp', 'card'],
    ['siret 732 829 320 00074', 'siret [redacted:siret]', 'siret'],
    ['siren 732829320', 'siren [redacted:siren]', 'siren'],
    ['call 06 12 34 56 78', 'call [redacted:phone]', 'phone'],
    ['call +44 20 7946 0958', 'call [redacted:phone]', 'phone'],
    ['from 203.0.113.77 ok', 'from [redacted:ip] ok', 'ip'],
    ['from 2001:db8:abcd:12::1 ok', 'from [redacted:ip] ok', 'ip'],
  ])('masks %s', (input, masked, kind) => {
    expect(scanText(input, 'mask')).toEqual({ text: masked, found: [kind] });
  });

  it('leaves ordinary text, paths, dates and invalid numbers alone', () => {
    for (const text of [
      '/politique/article-12',
      '/article/123456789',
      'Le 22/11/2026 à 20:00',
      'version 124.0.6367.207',
      'card 4111 1111 1111 1112',
      'ratio 3:2 at 10:30',
    ]) {
      expect(scanText(text, 'mask')).toEqual({ text, found: [] });
    }
  });

  it('reports without changing the text, and counts a value once', () => {
    expect(scanText('a@b.fr and 4111111111111111', 'report')).toEqual({
      text: 'a@b.fr and 4111111111111111',
      found: ['email', 'card'],
    });
    expect(scanText('a@b.fr', 'off')).toEqual({ text: 'a@b.fr', found: [] });
  });

  it('remembers only texts a scan found clean: an unscanned (off) or dirty text is scanned every time', () => {
    const email = 'écrire à remember.me@example.fr';
    expect(scanText(email, 'off')).toEqual({ text: email, found: [] });
    expect(scanText(email, 'mask')).toEqual({ text: 'écrire à [redacted:email]', found: ['email'] });
    expect(scanText(email, 'mask').found).toEqual(['email']);
    expect(scanText(email, 'report')).toEqual({ text: email, found: ['email'] });
    const clean = 'Article 12 — politique, 2026';
    expect(scanText(clean, 'mask')).toEqual({ text: clean, found: [] });
    expect(scanText(clean, 'drop')).toEqual({ text: clean, found: [] });
  });

  it('stays fast on 100 KB adversarial strings (ReDoS)', () => {
    const inputs = [
      '1 '.repeat(50_000),
      'a'.repeat(100_000) + '@',
      'a@' + 'a.'.repeat(50_000),
      '1'.repeat(100_000),
      ':'.repeat(100_000),
      'FR76' + ' 1'.repeat(50_000),
      '0'.repeat(20) + '.'.repeat(100_000),
    ];
    const started = performance.now();
    for (const input of inputs) scanText(input, 'mask');
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('scanText on encoded values', () => {
  it.each([
    ['percent-encoded twice', 'jean.dupont%2540example.com', 'email'],
    ['percent-encoded three times', 'jean.dupont%252540example.com', 'email'],
    ['plus for spaces', '%2B33+6+12+34+56+78', 'phone'],
    ['an HTML entity', 'jean.dupont&#64;example.com', 'email'],
    ['a named entity', 'jean.dupont&commat;example.com', 'email'],
    ['a hex entity', 'jean.dupont&#x40;example.com', 'email'],
    ['a \\u escape (a JSON string inside a string)', 'jean.dupont\\u0040example.com', 'email'],
    ['base64', 'token=amVhbi5kdXBvbnRAZXhhbXBsZS5jb20=', 'email'],
    ['base64url', 'dGVsICszMyA2IDEyIDM0IDU2IDc4', 'phone'],
    ['base64 of JSON', 'eyJlbWFpbCI6ImplYW4uZHVwb250QGV4YW1wbGUuY29tIn0=', 'email'],
    [
      'base64 of a percent-encoded value',
      Buffer.from('jean.dupont%40example.com').toString('base64'),
      'email',
    ],
  ])('finds %s and masks the whole value', (_what, input, kind) => {
    expect(scanText(input, 'mask')).toEqual({ text: `[redacted:${kind}]`, found: [kind] });
    expect(scanText(input, 'report')).toEqual({ text: input, found: [kind] });
  });

  it.each([
    ['a GA client id', '1234567890.1700000000'],
    ['a UUID', '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b'],
    ['a hex visitor id', '9f86d081884c7d65'],
    ['a random base64 token', 'q8Zt1vYb3kLx0PaW9sRmNe2uHc7Jd4Fg'],
    ['an article slug', '/articles/la-rentree-des-classes-2026-en-images'],
    ['a title with a plus', 'Canal+ : la grille de ce soir'],
    ['a query with escapes', 'q=caf%C3%A9+cr%C3%A8me&page=2'],
  ])('leaves %s alone', (_what, input) => {
    expect(scanText(input, 'mask')).toEqual({ text: input, found: [] });
  });
});
