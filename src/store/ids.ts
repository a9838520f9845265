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
  const bytes = Buffer.alloc(16);
  // Hex output: Node's one-shot hash is ~2.5× slower when asked for a Buffer.
  bytes.write(hash('sha256', key, 'hex').slice(0, 20), 6, 'hex');
  return withTime(bytes, ts);
}
