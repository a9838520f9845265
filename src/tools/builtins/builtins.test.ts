import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ga4EventName, ga4Params } from './ga4.js';
import { metaHash } from './meta.js';
import { webhookSignature } from './webhook.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('built-in tools', () => {
  it('GA4: event and parameter names within the Measurement Protocol rules', () => {
    expect(ga4EventName('contact form')).toBe('contact_form');
    expect(ga4EventName('session_start')).toBe('c_session_start');
    expect(ga4EventName('firebase_x')).toBe('c_firebase_x');
    expect(ga4EventName('42 things')).toBe('things');
    expect(ga4EventName('é')).toBe('event');
    expect(ga4EventName('x'.repeat(60))).toHaveLength(40);
    const params = ga4Params(
      Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`p${i}`, 'v'.repeat(150)])),
    );
    expect(Object.keys(params)).toHaveLength(25);
    expect(String(params.p0)).toHaveLength(100);
    expect(ga4Params({ n: 3, __eventId: 'x', o: { a: 1 } })).toEqual({ n: 3, o: '{"a":1}' });
  });

  it('Meta: normalises then hashes customer information as the Conversions API asks', () => {
    expect(metaHash('em', '  John.Smith@Example.COM ')).toBe(sha256('john.smith@example.com'));
    expect(metaHash('ph', '+33 6 12 34 56 78')).toBe(sha256('33612345678'));
    expect(metaHash('ph', '0033 6 12 34 56 78')).toBe(sha256('33612345678'));
    expect(metaHash('fn', 'Jean-Loup')).toBe(sha256('jeanloup'));
    expect(metaHash('ct', 'Saint-Étienne')).toBe(sha256('saintétienne'));
    expect(metaHash('country', 'FR')).toBe(sha256('fr'));
    expect(metaHash('ge', 'Female')).toBe(sha256('f'));
    expect(metaHash('ge', 'x')).toBeNull();
    expect(metaHash('db', '1990-02-14')).toBe(sha256('19900214'));
    expect(metaHash('em', sha256('a@b.fr'))).toBe(sha256('a@b.fr'));
  });

  it('webhook: the signature a receiver can recompute', () => {
    const body = '{"a":1}';
    expect(webhookSignature('k', '1700000000', body)).toBe(
      `sha256=${createHmac('sha256', 'k').update(`1700000000.${body}`).digest('hex')}`,
    );
  });
});
