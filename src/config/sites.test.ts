import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';
import { BaliseError } from '../errors.js';
import { hostOf, SiteIndex } from './sites.js';

const config = parseConfig(
  { sites: [{ host: 'www.example.fr', aliases: ['example.fr'] }, { host: 'tv.example' }] },
  { env: {} },
);
const index = new SiteIndex(config.sites);

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof BaliseError ? error.code : 'other';
  }
  return undefined;
}

describe('SiteIndex', () => {
  it('parses host names from Host headers and origins', () => {
    expect(hostOf('WWW.Example.FR:8080')).toBe('www.example.fr');
    expect(hostOf('https://example.fr')).toBe('example.fr');
    expect(hostOf('[::1]:8080')).toBe('::1');
    expect(hostOf('example.fr.')).toBe('example.fr');
  });
  it('refuses a Host with anything after the name but a port', () => {
    expect(hostOf('www.example.fr:evil.com')).toBeNull();
    expect(hostOf('www.example.fr:443:80')).toBeNull();
    expect(hostOf('user@www.example.fr')).toBeNull();
    expect(hostOf('www.example.fr/x')).toBeNull();
    expect(hostOf('[::1]evil')).toBeNull();
    expect(code(() => index.resolve('www.example.fr:evil.com', undefined))).toBe('unknown_site');
  });
  it('resolves by Host, by alias, and by Origin for a shared collector', () => {
    expect(index.resolve('www.example.fr', undefined).host).toBe('www.example.fr');
    expect(index.resolve('example.fr:443', 'https://www.example.fr').host).toBe('www.example.fr');
    expect(index.resolve('collector.agency.example', 'https://tv.example').host).toBe('tv.example');
  });
  it('refuses a forged Origin for another configured site with origin_mismatch', () => {
    expect(code(() => index.resolve('www.example.fr', 'https://tv.example'))).toBe('origin_mismatch');
  });
  it('refuses unknown hosts with unknown_site', () => {
    expect(code(() => index.resolve('evil.example', undefined))).toBe('unknown_site');
    expect(code(() => index.resolve(undefined, 'null'))).toBe('unknown_site');
  });
});
