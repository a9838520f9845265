import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_LINE_BYTES, readChunks } from './chunks.js';

const dir = mkdtempSync(join(tmpdir(), 'balise-chunks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every line the chunks hold, with its number, and the numbers of the too-long ones. */
async function readAll(path: string, chunkBytes: number) {
  const lines: string[] = [];
  const tooLong: number[] = [];
  let bytes = 0;
  for await (const chunk of readChunks(path, chunkBytes, (read) => (bytes = read))) {
    expect(chunk.firstLine).toBe(lines.length + 1);
    const text = chunk.bytes.toString('latin1');
    expect(text.endsWith('\n')).toBe(true);
    const parts = text.slice(0, -1).split('\n');
    expect(parts).toHaveLength(chunk.lines);
    for (const index of chunk.tooLong) tooLong.push(chunk.firstLine + index);
    lines.push(...parts);
  }
  // Every byte of the file (compressed, for gzip) was counted for progress.
  expect(bytes).toBe(statSync(path).size);
  return { lines, tooLong };
}

describe('log chunks', () => {
  it('hands back every line whole, numbered, in order, whatever the chunk and read sizes', async () => {
    // Random line lengths around the 1 MiB reads and the chunk size, some over the line limit,
    // some continued across reads; with and without a final newline, plain and gzipped.
    let seed = 11;
    const random = (n: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const roll = random(100);
      const length =
        roll < 2
          ? MAX_LINE_BYTES + 1 + random(200_000)
          : roll < 6
            ? MAX_LINE_BYTES - 1 + random(4)
            : random(900);
      lines.push(String.fromCharCode(97 + (i % 26)).repeat(length));
    }
    const expected = lines.map((line) => (line.length > MAX_LINE_BYTES ? '' : line));
    const expectedTooLong = lines.flatMap((line, i) => (line.length > MAX_LINE_BYTES ? [i + 1] : []));
    expect(expectedTooLong.length).toBeGreaterThan(20);
    for (const ending of ['\n', '']) {
      const text = lines.join('\n') + ending;
      const plain = join(dir, `plain${ending.length}.log`);
      writeFileSync(plain, text);
      const gzip = join(dir, `gzip${ending.length}.log.gz`);
      writeFileSync(gzip, gzipSync(text));
      for (const [path, chunkBytes] of [
        [plain, 100_000],
        [plain, 4 * 2 ** 20],
        [gzip, 300_000],
      ] as const) {
        const read = await readAll(path, chunkBytes);
        expect(read.tooLong).toEqual(expectedTooLong);
        expect(read.lines.length).toBe(expected.length);
        expect(read.lines).toEqual(expected);
      }
    }
  });

  it('reads an empty file as no chunk, and a lone line without newline as one line', async () => {
    const empty = join(dir, 'empty.log');
    writeFileSync(empty, '');
    expect((await readAll(empty, 1000)).lines).toEqual([]);
    const one = join(dir, 'one.log');
    writeFileSync(one, 'hello');
    expect((await readAll(one, 1000)).lines).toEqual(['hello']);
  });
});
