import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers.js';
import { CHUNK_BYTES, plainInputBytes, workerPlan } from './setup.js';

describe('workerPlan', () => {
  const cores = Math.min(8, availableParallelism());

  it('starts no more workers by default than the input has chunks', () => {
    expect(workerPlan({ format: 'combined', inputBytes: 1000 }).count).toBe(1);
    expect(workerPlan({ format: 'combined', inputBytes: 0 }).count).toBe(1);
    expect(workerPlan({ format: 'combined', inputBytes: 3 * CHUNK_BYTES }).count).toBe(Math.min(cores, 3));
    expect(workerPlan({ format: 'combined', inputBytes: 1000, chunkBytes: 100 }).count).toBe(
      Math.min(cores, 10),
    );
    // An input of unknown size (gzip, a pipe) gets a worker per core.
    expect(workerPlan({ format: 'combined' }).count).toBe(cores);
  });

  it('keeps the count the user gave', () => {
    expect(workerPlan({ format: 'combined', inputBytes: 1000, workers: 2 }).count).toBe(2);
    expect(workerPlan({ format: 'combined', inputBytes: 1000, workers: 0 }).count).toBe(0);
  });
});

describe('plainInputBytes', () => {
  it('sums plain files, and knows nothing of gzip files, pipes and missing files', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const a = join(dir, 'a.log');
      const b = join(dir, 'b.log');
      const z = join(dir, 'c.log');
      writeFileSync(a, 'x'.repeat(1000));
      writeFileSync(b, 'y'.repeat(24));
      writeFileSync(z, gzipSync('line\n'.repeat(100)));
      expect(await plainInputBytes([a, b])).toBe(1024);
      expect(await plainInputBytes([a, z])).toBeUndefined();
      expect(await plainInputBytes([a, join(dir, 'missing.log')])).toBeUndefined();
      expect(await plainInputBytes([dir])).toBeUndefined();
      expect(await plainInputBytes([])).toBe(0);
    } finally {
      cleanup();
    }
  });
});
