import { describe, expect, it } from 'vitest';
import { applyClientIdRule } from './client-id.js';
import { applyReferrerRule, isInternalHost, siteDomains } from './referrer.js';
import { BUILTIN_TRACKERS } from './trackers.js';

const hosts = ['www.example.fr', 'example.fr'];
const site = { host: 'www.example.fr', aliases: ['example.fr'] };

describe('referrer switch', () => {
  it('strip-external removes an external referrer and keeps an internal one after the query rule', () => {
    expect(
      applyReferrerRule(
        'https://news.example.org/article?id=7',
        site,
        'strip-external',
        'strip',
        BUILTIN_TRACKERS,
      ),
    ).toBeNull();
    expect(
      applyReferrerRule(
        'https://shop.example.fr/cart?utm_source=x#a',
        site,
        'strip-external',
        'strip',
        BUILTIN_TRACKERS,
      ),
    ).toBe('https://shop.example.fr/cart');
  });
  it('keep keeps any referrer after the query rule; remove keeps none', () => {
    expect(
      applyReferrerRule(
        'https://news.example.org/a?id=7&gclid=1',
        site,
        'keep',
        'known-trackers',
        BUILTIN_TRACKERS,
      ),
    ).toBe('https://news.example.org/a?id=7');
    expect(applyReferrerRule('https://www.example.fr/', site, 'remove', 'keep', BUILTIN_TRACKERS)).toBeNull();
  });
  it('compares registrable domains with the Public Suffix List', () => {
    expect(isInternalHost('blog.example.fr', siteDomains(hosts))).toBe(true);
    expect(isInternalHost('example.co.uk', siteDomains(['www.other.co.uk']))).toBe(false);
    expect(isInternalHost('localhost', siteDomains(['localhost']))).toBe(true);
  });
});

describe('clientId switch', () => {
  it('gives the visitor hash, a constant, or the vendor id', () => {
    expect(applyClientIdRule('hashed', '42', 'GA1.1.123.456')).toBe('42');
    expect(applyClientIdRule({ constant: 'anon' }, '42', 'GA1.1.123.456')).toBe('anon');
    expect(applyClientIdRule('keep', '42', null)).toBeNull();
  });
});
