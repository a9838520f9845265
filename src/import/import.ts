import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { DropReason } from '../pipeline/result.js';
import { RowSpan } from '../store/row-span.js';
import type { BulkLoad } from '../store/store.js';
import { readChunks } from './chunks.js';
import { ImportError } from './import-error.js';
import type { ChunkResult } from './process.js';
import { inThread, startWorkers } from './runners.js';
import { CHUNK_BYTES, processSetup, STORE_MEMORY_MB, workerPlan, type EarlyImport } from './setup.js';
import { ImportTally } from './tally.js';

/** What `importFiles` is asked to do. */
export interface ImportOptions {
  /** `combined`, `common`, `nginx:…`, `jsonl:…`, `dns-bind`, `dns-jsonl` (see formats.ts). */
  format: string;
  /** Store every line under this configured site instead of the log's host. */
  site?: string;
  /** Zone of zone-less log times (BIND); default UTC. */
  tz?: string;
  /** How many bad lines to keep for the summary (default 10). */
  showBad?: number;
  /** Rows per store write (default: the store's `bulkRows`, else 100,000). */
  batchRows?: number;
  /**
   * Worker threads that parse and run the pipeline (default: one per core, at most 8); 0 does
   * the work in this thread.
   */
  workers?: number;
  /**
   * The input's size when known before reading (plain files, `plainInputBytes`): the default
   * worker count is then no more than the chunks it makes.
   */
  inputBytes?: number;
  /** Bytes of log lines per chunk handed to a worker (default `CHUNK_BYTES`, 512 KiB). */
  chunkBytes?: number;
  /**
   * True when this process owns the store (the CLI, not a gateway serving dashboards from it):
   * the store's own memory is then bounded during the import (`STORE_MEMORY_MB`), so that the
   * import's memory does not grow with the file.
   */
  ownStore?: boolean;
  /** Its setup and worker threads, started before its store was opened (`startEarly`). */
  early?: EarlyImport;
  /** Called about every `progressMs` (default 200) and once at the end of each file. */
  onProgress?: (progress: ImportProgress) => void;
  progressMs?: number;
}

/** Progress of a running import. */
export interface ImportProgress {
  file: string;
  fileIndex: number;
  files: number;
  /** Bytes of the current file read so far (compressed bytes for .gz) and its size. */
  bytesRead: number;
  bytesTotal: number;
  /** Bytes of the files before this one plus bytesRead, and the size of all files. */
  allBytesRead: number;
  allBytesTotal: number;
  lines: number;
  elapsedMs: number;
}

/** A bad line: where, and why (never its content: it may hold personal data). */
export interface BadLine {
  file: string;
  line: number;
  reason: string;
}

/** The outcome of an import. */
export interface ImportSummary {
  files: number;
  bytes: number;
  lines: number;
  /** Rows written now, and rows already stored by an earlier import of the same lines. */
  imported: number;
  duplicates: number;
  badLines: number;
  /** The first `showBad` bad lines. */
  bad: BadLine[];
  /** Lines that parsed but the pipeline dropped, by reason. */
  dropped: Partial<Record<DropReason, number>>;
  /** Lines whose host (or DNS name) is not a configured site, and the most frequent of those hosts. */
  unknownSite: number;
  unknownHosts: { host: string; lines: number }[];
  /** DLP findings by kind (never their values). */
  findings: Record<string, number>;
  elapsedMs: number;
  linesPerSecond: number;
  /** Peak resident memory of the process that ran the import, worker threads included (MB). */
  peakRssMb: number;
}

/** Result memory kept for reuse (CSV of a few chunks). */
const MAX_SPARE = 16;

export { ImportError } from './import-error.js';

/** A store batch being written: its CSV file, its row count, and its rows' range and hours. */
interface Batch {
  path: string;
  fd: number;
  rows: number;
  span: RowSpan;
}

/**
 * Imports log files through the collect pipeline (enrichment and privacy, no tools) into the
 * store, streaming, in constant memory. The importing thread reads the files in chunks of whole
 * lines; worker threads parse them and run the pipeline, each chunk into row CSV; the answers are
 * taken in file order and written to the store in batches, one batch in flight. Bad lines are
 * counted and never stop the import; the same lines imported again are recognised by their ids
 * and not counted twice.
 */
export function importFiles(
  store: BulkLoad,
  config: Config,
  files: readonly string[],
  options: ImportOptions,
): Promise<ImportSummary> {
  const run = () => importInto(store, config, files, options);
  if (!store.bulkLoad) return run();
  return store.bulkLoad(run, options.ownStore ? { memoryMb: STORE_MEMORY_MB } : {});
}

async function importInto(
  store: BulkLoad,
  config: Config,
  files: readonly string[],
  options: ImportOptions,
): Promise<ImportSummary> {
  const early = options.early;
  // A bad site or format stops here, in this thread, before any file is read.
  const setup = await processSetup(store, config, options);
  const sizes = files.map((file) => {
    try {
      return statSync(file).size;
    } catch {
      throw new ImportError(`cannot read ${file}: no such file`);
    }
  });
  const allBytesTotal = sizes.reduce((a, b) => a + b, 0);
  const showBad = setup.showBad;
  const batchRows = options.batchRows ?? store.bulkRows ?? 100_000;
  const progressMs = options.progressMs ?? 200;
  const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
  const { count: workerCount, maxOut, slots, capacity } = workerPlan(options);
  const tally = new ImportTally(files.length, allBytesTotal, showBad);
  const summary = tally.counts;
  const started = performance.now();
  early?.start(setup.lineIds);
  const runner =
    workerCount === 0
      ? await inThread(setup)
      : await (early?.runner ?? startWorkers(setup, workerCount, slots, capacity));

  // Store batches: chunk answers appended to a CSV file until it holds batchRows rows, then
  // handed to the store while the next file fills (one batch in flight).
  const spool = mkdtempSync(join(tmpdir(), 'balise-import-'));
  let batch: Batch | undefined;
  let batches = 0;
  let inflight: Promise<void> = Promise.resolve();
  let failure: Error | undefined;
  const settle = async () => {
    await inflight;
    if (failure !== undefined) throw failure;
  };
  const flush = async () => {
    if (!batch) return;
    const full = batch;
    batch = undefined;
    closeSync(full.fd);
    await settle();
    inflight = (async () => {
      const { inserted } = await store.appendCsv(full.path, full.span.rows()!);
      await rm(full.path, { force: true });
      tally.written(full.rows, inserted);
    })().catch((error: unknown) => {
      failure = error instanceof Error ? error : new Error(String(error));
    });
  };
  const take = async (result: ChunkResult, file: string) => {
    tally.add(result, file);
    // Batches of exactly batchRows rows (but the last of a file): a chunk is cut at the row
    // that fills one, and the rest begins the next.
    for (let from = 0; from < result.rows;) {
      if (!batch) {
        const path = join(spool, `batch-${batches++}.csv`);
        const fd = openSync(path, 'w');
        batch = { path, fd, rows: 0, span: new RowSpan() };
      }
      const count = Math.min(batchRows - batch.rows, result.rows - from);
      const to = from + count;
      const start = result.rowStarts[from]!;
      const end = to < result.rows ? result.rowStarts[to]! : result.csv.byteLength;
      writeSync(batch.fd, result.csv, start, end - start);
      for (let i = from; i < to; i++) batch.span.add(result.rowTimes[i]!);
      batch.rows += count;
      from = to;
      if (batch.rows >= batchRows) await flush();
    }
    // Shared slots always come back (there is a fixed number of them); other memory up to a bound.
    if (result.csv.buffer instanceof SharedArrayBuffer || runner.spareCsv.length < MAX_SPARE)
      runner.spareCsv.push(result.csv.buffer);
  };

  let doneBytes = 0;
  try {
    for (const [fileIndex, file] of files.entries()) {
      let bytesRead = 0;
      let nextProgress = 0;
      const report = () =>
        options.onProgress?.({
          file,
          fileIndex,
          files: files.length,
          bytesRead,
          bytesTotal: sizes[fileIndex]!,
          allBytesRead: doneBytes + bytesRead,
          allBytesTotal,
          lines: summary.lines,
          elapsedMs: performance.now() - started,
        });
      // Answers come back in any order; they are taken in file order, with a bounded number out.
      const out: Promise<ChunkResult>[] = [];
      const chunks = readChunks(file, chunkBytes, (bytes) => (bytesRead = bytes), runner.spareInput);
      for await (const chunk of chunks) {
        out.push(runner.run(chunk));
        while (out.length >= maxOut) await take(await out.shift()!, file);
        const now = performance.now();
        if (now >= nextProgress) {
          nextProgress = now + progressMs;
          report();
        }
      }
      while (out.length > 0) await take(await out.shift()!, file);
      // The last chunk is in: the workers end before the last batch is inserted (their memory
      // is freed before that insert's peak; closing again below does nothing).
      if (fileIndex === files.length - 1) await runner.close();
      // A batch holds lines of one file: within it ids are distinct (a line's number is part of
      // its id), as appendCsv expects; the same file given twice lands in two batches.
      await flush();
      bytesRead = sizes[fileIndex]!;
      report();
      doneBytes += sizes[fileIndex]!;
    }
    await flush();
    await settle();
  } finally {
    if (batch) closeSync(batch.fd);
    await inflight;
    await runner.close();
    rmSync(spool, { recursive: true, force: true });
  }
  return tally.summary();
}
