import { createHash } from 'node:crypto';
import xxhash from 'xxhash-wasm';
import { describe, expect, it } from 'vitest';
import { lineIds, sha256LineId } from './line-id.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const LINE = '83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/ HTTP/1.1" 200 7697';
const CASES: [number, string, number, string][] = [
  [0, 'a', 0, ''],
  [1431853565000, 'semicomplete.com', 1, LINE],
  [1431853565000, 'semicomplete.com', 2, LINE],
  [1431853565000, 'www.example.fr', 1, LINE],
  [2 ** 48 + 5, 'é.fr', 4097, 'café ☕'],
];

describe('line ids', () => {
  it('are the same for the same line in both schemes, for every version to come', async () => {
    const xxh64 = await lineIds('xxh64');
    const sha256 = await lineIds('sha256');
    const ids = CASES.map(([ts, site, line, text]) => {
      // The line somewhere inside a larger buffer, as in a chunk.
      const bytes = Buffer.concat([Buffer.from('x\n'), Buffer.from(text), Buffer.from('\ny')]);
      const end = bytes.length - 2;
      return [xxh64(ts, site, line, text, bytes, 2, end), sha256(ts, site, line, text, bytes, 2, end)];
    });
    // Changing any of these would count again every file already imported, on its next import.
    expect(ids).toEqual([
      ['00000000-0000-761d-b9f2-9c85ffe18000', '00000000-0000-75e2-bc1b-12981293ccda'],
      ['014d611f-8448-73f5-a266-2124f2e1e001', '014d611f-8448-7f2b-af2d-0ee998de20ac'],
      ['014d611f-8448-7c30-8481-415259eb6002', '014d611f-8448-71ea-bed9-f85bb15c0dee'],
      ['014d611f-8448-7541-aaf3-40a5a5037001', '014d611f-8448-7133-9c38-777c85ed13ec'],
      ['00000000-0005-7b51-985e-0a72e2a04001', '00000000-0005-73cc-b1a9-78f88f382f6a'],
    ]);
    for (const pair of ids) for (const id of pair) expect(id).toMatch(UUID_V7);
  });

  it('xxh64: XXH64 of the bytes seeded by the site and line number, as documented', async () => {
    const xxh = await xxhash();
    const xxh64 = await lineIds('xxh64');
    for (const [ts, site, line, text] of CASES) {
      const bytes = Buffer.from(text);
      const seed = BigInt(`0x${createHash('sha256').update(`import\n${site}`).digest('hex').slice(0, 16)}`);
      const digest = xxh
        .h64Raw(bytes, seed ^ BigInt(line))
        .toString(16)
        .padStart(16, '0');
      const id = xxh64(ts, site, line, text, bytes, 0, bytes.length).replaceAll('-', '');
      // After the 12 time digits and the version: digits 1–3, then (past the variant) 5–7 and 8–16.
      expect(id.slice(13, 16)).toBe(digest.slice(0, 3));
      expect(id.slice(17)).toBe(`${digest.slice(4)}${(line & 0xfff).toString(16).padStart(3, '0')}`);
    }
  });

  it('sha256: the ids of 0.1.0 (SHA-256 of the site, line number and text)', () => {
    const digest = createHash('sha256').update(`import\nsemicomplete.com\n1\n${LINE}`).digest('hex');
    const id = sha256LineId(1431853565000, 'semicomplete.com', 1, LINE).replaceAll('-', '');
    expect(id.slice(13, 16)).toBe(digest.slice(1, 4));
    expect(id.slice(17)).toBe(digest.slice(5, 20));
  });

  it('differ with the site, the line number, the time and any byte of the line', async () => {
    const xxh64 = await lineIds('xxh64');
    const bytes = Buffer.from(LINE);
    const base = xxh64(1, 's', 1, LINE, bytes, 0, bytes.length);
    const ids = new Set([base]);
    ids.add(xxh64(1, 't', 1, LINE, bytes, 0, bytes.length));
    ids.add(xxh64(1, 's', 2, LINE, bytes, 0, bytes.length));
    ids.add(xxh64(1, 's', 1 + 4096, LINE, bytes, 0, bytes.length));
    ids.add(xxh64(2, 's', 1, LINE, bytes, 0, bytes.length));
    for (let i = 0; i < bytes.length; i++) {
      const changed = Buffer.from(bytes);
      changed[i] = changed[i]! ^ 1;
      ids.add(xxh64(1, 's', 1, LINE, changed, 0, changed.length));
    }
    expect(ids.size).toBe(5 + bytes.length);
  });
});
