import { hash, randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function hex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < 16; i++) {
    out += HEX[bytes[i]!]!;
    if (i === 3 || i === 5 || i === 7 || i === 9) out += '-';
  }
  return out;
}

function withTime(bytes: Buffer, ts: number): string {
  bytes.writeUIntBE(Math.max(0, Math.trunc(ts)) % 2 ** 48, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return hex(bytes);
}

/**
 * A new UUIDv7 (RFC 9562): 48-bit millisecond time, then 74 random bits drawn from a pooled
 * CSPRNG buffer (one `randomFillSync` per 409 ids, which is what makes it cheap on the hot path).
 */
export function newEventId(now = Date.now()): string {
  if (poolOffset + 10 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = Buffer.alloc(16);
  pool.copy(bytes, 6, poolOffset, poolOffset + 10);
  poolOffset += 10;
  return withTime(bytes, now);
}

/**
 * A UUIDv7 whose time part is `ts` and whose random part is derived from `key`: the same input
 * always gives the same id, so seeding or re-importing the same data never counts twice.
 */
export function deterministicId(ts: number, key: string): string {
  // Built as text, without a Buffer (one per line of an import into a store that keeps SHA-256
  // line ids): the first 80 bits of the
  // SHA-256 (hex: Node's one-shot hash is ~2.5× slower when asked for a Buffer) after the 48-bit
  // time, with the version and variant bits set — the same ids as writing those bytes would give.
  return idFromHex(ts, hash('sha256', key, 'hex').slice(1, 20));
}

/**
 * A UUIDv7 whose time part is `ts` and whose 74 other bits come from the first 19 hex digits of
 * `hex` followed by `tail` (digit 3 gives the variant's two bits). An import's line id gives its
 * digest and its line number's digits apart: they are not joined into one more string.
 */
export function idFromHex(ts: number, hex: string, tail = ''): string {
  const variant = VARIANT[parseInt(hex[3]!, 16) & 0x3]!;
  return `${timeGroups(ts)}7${hex.slice(0, 3)}-${variant}${hex.slice(4, 7)}-${hex.slice(7, 19 - tail.length)}${tail}`;
}

/**
 * How a store's imported lines get their ids (import/line-id.ts): `xxh64` for a new store,
 * `sha256` for a store that held imported rows before xxh64 ids came (0.1.0), so that a file
 * imported then is still recognised when imported again.
 */
export type LineIdScheme = 'xxh64' | 'sha256';

/**
 * The first two groups of a UUIDv7 at `ts` (`tttttttt-tttt-`). A 48-bit time is a double for the
 * engine, on which `%` and `toString(16)` are slow paths: it is printed from two 24-bit halves.
 */
function timeGroups(ts: number): string {
  let time = Math.max(0, Math.trunc(ts));
  if (time >= 2 ** 48) time %= 2 ** 48;
  const high = Math.floor(time / 2 ** 24);
  const low = time - high * 2 ** 24;
  return `${HEX[high >>> 16]!}${HEX[(high >>> 8) & 255]!}${HEX[high & 255]!}${HEX[low >>> 16]!}-${HEX[(low >>> 8) & 255]!}${HEX[low & 255]!}-`;
}

/** RFC 9562 variant `10xx` as the first hex digit of the fourth group, from two bits of the digest. */
const VARIANT = ['8', '9', 'a', 'b'];
