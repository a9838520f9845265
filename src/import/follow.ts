import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { RowSpan } from '../store/row-span.js';
import type { BulkLoad } from '../store/store.js';
import { MAX_LINE_BYTES, type Chunk } from './chunks.js';
import { ImportError } from './import-error.js';
import type { ImportOptions, ImportSummary } from './import.js';
import { processSetup, STORE_MEMORY_MB } from './setup.js';
import { ImportTally } from './tally.js';
import { ChunkProcessor, type ChunkResult } from './process.js';

/** How `followFile` runs: an import's options, and when to stop and write. */
export interface FollowOptions extends Pick<
  ImportOptions,
  'format' | 'site' | 'tz' | 'showBad' | 'ownStore'
> {
  /** Stops following: what was read is written, then the summary comes back. */
  signal: AbortSignal;
  /** How often the file is looked at once its end is reached (default 250 ms). */
  pollMs?: number;
  /** Longest time read lines wait before they are written to the store (default 1 s). */
  flushMs?: number;
  /** Called after each write to the store, with the summary so far. */
  onWrite?: (summary: ImportSummary) => void;
}

/** Bytes read from the file at a time. */
const READ_BYTES = 1 << 20;

/** A file being followed: its descriptor, identity, next byte and next line number. */
interface Followed {
  fd: number;
  ino: number;
  offset: number;
  line: number;
  /** The start of a line whose end has not been written yet. */
  partial: Buffer;
}

function openFollowed(file: string): Followed {
  const fd = openSync(file, 'r');
  return { fd, ino: fstatSync(fd).ino, offset: 0, line: 1, partial: Buffer.alloc(0) };
}

/**
 * Follows a growing log like `tail -F` (docs/import.md#following-a-log): imports the lines
 * already in `file`, then each line appended, through the same pipeline and with the same ids
 * as `balise import` (the file's line numbers: importing the file again later adds nothing). A
 * rotation (the path names a new file) is followed once the old file's end is read, from the
 * new file's first line; a truncation (copytruncate) starts again from the first line. Lines
 * wait at most `flushMs` before they are written. Stops when `signal` aborts, after writing
 * what it read, and returns the summary.
 */
export function followFile(
  store: BulkLoad,
  config: Config,
  file: string,
  options: FollowOptions,
): Promise<ImportSummary> {
  // A store of its own: its memory bounded as an import's (the follow may last for days).
  const run = () => follow(store, config, file, options);
  return options.ownStore && store.bulkLoad ? store.bulkLoad(run, { memoryMb: STORE_MEMORY_MB }) : run();
}

async function follow(
  store: BulkLoad,
  config: Config,
  file: string,
  options: FollowOptions,
): Promise<ImportSummary> {
  const setup = await processSetup(store, config, options);
  let current: Followed;
  try {
    current = openFollowed(file);
  } catch {
    throw new ImportError(`cannot read ${file}: no such file`);
  }
  const head = Buffer.alloc(2);
  if (readSync(current.fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b) {
    closeSync(current.fd);
    throw new ImportError(`--follow reads a plain growing log, and ${file} is gzip`);
  }
  const processor = await ChunkProcessor.create(setup);
  const showBad = setup.showBad;
  const tally = new ImportTally(1, 0, showBad);
  const summary = tally.counts;
  const spool = mkdtempSync(join(tmpdir(), 'balise-follow-'));
  let batch: { path: string; fd: number; rows: number; span: RowSpan } | undefined;
  let batches = 0;
  let batchSince = 0;
  const flush = async () => {
    if (!batch) return;
    const full = batch;
    batch = undefined;
    closeSync(full.fd);
    const { inserted } = await store.appendCsv(full.path, full.span.rows()!);
    rmSync(full.path, { force: true });
    tally.written(full.rows, inserted);
    options.onWrite?.(tally.summary());
  };
  const take = (result: ChunkResult) => {
    tally.add(result, file);
    if (result.rows === 0) return;
    // A batch holds lines of one file: a rotation writes what it holds first (ids stay distinct).
    if (!batch) {
      const path = join(spool, `batch-${batches++}.csv`);
      batch = { path, fd: openSync(path, 'w'), rows: 0, span: new RowSpan() };
      batchSince = performance.now();
    }
    writeSync(batch.fd, result.csv, 0, result.csv.byteLength);
    for (let i = 0; i < result.rows; i++) batch.span.add(result.rowTimes[i]!);
    batch.rows += result.rows;
  };
  /** Processes the whole lines of `bytes` (after the followed file's partial line). */
  const lines = async (followed: Followed, bytes: Buffer, final: boolean) => {
    let data = followed.partial.length ? Buffer.concat([followed.partial, bytes]) : bytes;
    if (final && data.length > 0 && data[data.length - 1] !== 0x0a)
      data = Buffer.concat([data, Buffer.from('\n')]);
    const end = data.lastIndexOf(0x0a) + 1;
    followed.partial = Buffer.from(data.subarray(end));
    if (followed.partial.length > MAX_LINE_BYTES)
      followed.partial = followed.partial.subarray(0, MAX_LINE_BYTES + 1);
    if (end === 0) return;
    const out: Buffer[] = [];
    const tooLong: number[] = [];
    let count = 0;
    for (let start = 0; start < end; count++) {
      const stop = data.indexOf(0x0a, start) + 1;
      if (stop - start - 1 > MAX_LINE_BYTES) {
        tooLong.push(count);
        out.push(Buffer.from('\n'));
      } else out.push(data.subarray(start, stop));
      start = stop;
    }
    const chunk: Chunk = { bytes: Buffer.concat(out), firstLine: followed.line, lines: count, tooLong };
    followed.line += count;
    take(await processor.process(chunk));
  };
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  try {
    while (!options.signal.aborted) {
      const read = readSync(current.fd, buffer, 0, READ_BYTES, current.offset);
      if (read > 0) {
        current.offset += read;
        summary.bytes += read;
        await lines(current, buffer.subarray(0, read), false);
        if (batch && (batch.rows >= 100_000 || performance.now() - batchSince >= (options.flushMs ?? 1000)))
          await flush();
        continue;
      }
      // At the end of what the descriptor holds: has the path moved on to another file?
      let onDisk: { ino: number; size: number } | undefined;
      try {
        onDisk = statSync(file);
      } catch {
        onDisk = undefined; // renamed, the new file not created yet
      }
      if (onDisk && onDisk.ino !== current.ino) {
        await lines(current, Buffer.alloc(0), true);
        await flush();
        closeSync(current.fd);
        current = openFollowed(file);
        continue;
      }
      if (onDisk && onDisk.size < current.offset) {
        // Truncated in place: the file starts again.
        await flush();
        current.offset = 0;
        current.line = 1;
        current.partial = Buffer.alloc(0);
        continue;
      }
      if (batch) await flush();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, options.pollMs ?? 250);
        function done() {
          clearTimeout(timer);
          options.signal.removeEventListener('abort', done);
          resolve();
        }
        options.signal.addEventListener('abort', done);
      });
    }
    await flush();
  } finally {
    if (batch) closeSync(batch.fd);
    closeSync(current.fd);
    rmSync(spool, { recursive: true, force: true });
  }
  return tally.summary();
}
