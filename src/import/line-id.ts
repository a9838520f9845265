import { hash } from 'node:crypto';
import xxhash from 'xxhash-wasm';
import { deterministicId, idFromHex, type LineIdScheme } from '../store/ids.js';

/**
 * The id of one log line: a UUIDv7 at the line's time `ts`, derived from the site, the line's
 * number in its file and its bytes (`text` is the same line decoded; a final CR is not part of
 * either). The same file imported again (or gzipped, or with lines appended) gives the same ids,
 * and two identical lines (two real identical requests) two ids.
 */
export type LineIdOf = (
  ts: number,
  site: string,
  line: number,
  text: string,
  bytes: Uint8Array,
  start: number,
  end: number,
) => string;

/**
 * The line ids of a store's scheme. `xxh64` (XXH64 of the line's bytes, seeded by the site and
 * the line number, through the xxhash-wasm library) costs about a fifth of `sha256` (SHA-256 of
 * the site, number and text), which stores that held imported rows before it keep using.
 * Collisions need the same site, millisecond and 64-bit hash (the line number is also in the
 * id): for log lines, which no one chooses to collide with a line of the same millisecond, the
 * odds are about 2⁻⁶⁴ per pair of lines of a millisecond.
 */
export async function lineIds(scheme: LineIdScheme): Promise<LineIdOf> {
  if (scheme === 'sha256') return (ts, site, line, text) => sha256LineId(ts, site, line, text);
  const xxh = await xxhash();
  const seeds = new Map<string, bigint>();
  let lastSite: string | undefined;
  let lastSeed = 0n;
  return (ts, site, line, _text, bytes, start, end) => {
    if (site !== lastSite) {
      let seed = seeds.get(site);
      if (seed === undefined) seeds.set(site, (seed = siteSeed(site)));
      lastSite = site;
      lastSeed = seed;
    }
    // A plain view of the line's bytes (a Buffer's subarray makes a Buffer, at several times
    // the cost).
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start);
    const digest = xxh
      .h64Raw(view, lastSeed ^ BigInt(line))
      .toString(16)
      .padStart(16, '0');
    // The last three digits carry the line number's low bits.
    return idFromHex(ts, digest, HEX3[line & 0xfff]);
  };
}

/** The former line id (the `sha256` scheme), from the site, line number and decoded text. */
export function sha256LineId(ts: number, site: string, line: number, text: string): string {
  return deterministicId(ts, `import\n${site}\n${line}\n${text}`);
}

/** A site's 64-bit seed: the first 16 hex digits of SHA-256 of its host. */
function siteSeed(site: string): bigint {
  return BigInt(`0x${hash('sha256', `import\n${site}`, 'hex').slice(0, 16)}`);
}

const HEX3 = Array.from({ length: 4096 }, (_, i) => i.toString(16).padStart(3, '0'));
