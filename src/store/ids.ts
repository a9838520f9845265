import { createHash } from 'node:crypto';

/**
 * A UUIDv7 whose time part is `ts` and whose random part is derived from `key`: the same input
 * always gives the same id, so seeding or re-importing the same data never counts twice.
 */
export function deterministicId(ts: number, key: string): string {
  const digest = createHash('sha256').update(key).digest();
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(Math.max(0, Math.trunc(ts)) % 2 ** 48, 0, 6);
  digest.copy(bytes, 6, 0, 10);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
