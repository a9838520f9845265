import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { bundledCountryMmdb, GeoLookup } from './geo.js';

const dir = mkdtempSync(join(tmpdir(), 'balise-geo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Addresses of several countries, one private, one invalid.
const ADDRESSES = [
  '8.8.8.8',
  '193.51.224.1',
  '1.1.1.1',
  '2001:4860:4860::8888',
  '81.2.69.142',
  '10.0.0.1',
  'x',
];

describe('GeoLookup', () => {
  it('answers from shared bytes read once exactly as a lookup that opened the files itself', async () => {
    const data = await GeoLookup.load();
    expect(data.country).toBeInstanceOf(SharedArrayBuffer);
    expect(data.city).toBeNull();
    const shared = GeoLookup.fromData(data);
    const own = await GeoLookup.open();
    const answers = ADDRESSES.map((ip) => shared.lookup(ip));
    expect(answers).toEqual(ADDRESSES.map((ip) => own.lookup(ip)));
    expect(answers[0]!.country).toBe('US');
    expect(answers.filter((geo) => geo.country !== null).length).toBeGreaterThanOrEqual(4);
    expect(answers.at(-2)).toEqual({ country: null, region: null, asn: null });
    // Two lookups over the same bytes: one copy of the database in memory, whatever the threads.
    expect(GeoLookup.fromData(data).lookup('8.8.8.8')).toEqual(answers[0]);
  });

  it('refuses a missing, gzip-compressed or foreign file, naming it', async () => {
    const missing = join(dir, 'no-such-city.mmdb');
    await expect(GeoLookup.load({ cityMmdb: missing })).rejects.toThrow(/no-such-city\.mmdb/);
    const gzipped = join(dir, 'country.mmdb.gz');
    writeFileSync(gzipped, gzipSync(readFileSync(bundledCountryMmdb())));
    await expect(GeoLookup.load({ countryMmdb: gzipped })).rejects.toThrow(
      /country\.mmdb\.gz is gzip-compressed/,
    );
    const foreign = join(dir, 'asn.mmdb');
    writeFileSync(foreign, 'not a database\n'.repeat(100));
    await expect(GeoLookup.open({ asnMmdb: foreign })).rejects.toThrow(/asn\.mmdb is not an mmdb database/);
  });
});
