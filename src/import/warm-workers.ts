import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { moduleWorker } from '../module-worker.js';
import { isGzip } from './chunks.js';

// What an import's worker threads are, how many it runs, and workers started before the rest of
// the import is loaded. This module loads nothing else of the import: `balise import` loads it
// first (src/cli/import-start.ts).

/** The most worker threads an import runs. */
export const MAX_WORKERS = 8;

/**
 * Bytes of log lines per chunk handed to a worker: 512 KiB (the chunks in flight and their CSV
 * ≈ 5 MB less at the peak than with 1 MiB, at the same speed: BENCHMARKS.md).
 */
export const CHUNK_BYTES = 2 ** 19;

/** What a warm worker is started with: it then waits for its start as its first message. */
export const WARM_START = { warm: true } as const;

/**
 * A worker thread running worker.ts next to this module: built into one file with its dependencies
 * (worker.bundle.js, made by `npm run build`: it starts in a quarter of the CPU), or — when this
 * module runs as TypeScript (tests, benches) — the TypeScript itself, loaded through tsx's API.
 * `start` is its `WorkerStart`, or `WARM_START`.
 */
export function importWorker(start: unknown): Worker {
  started++;
  return moduleWorker(import.meta.url, './worker.bundle.js', './worker.ts', start);
}

let started = 0;

/** How many import worker threads this process has started (warm or not). */
export function importWorkersStarted(): number {
  return started;
}

/**
 * The worker threads an import runs by default for an input of `inputBytes` (undefined when not
 * known before reading): one per core, at most MAX_WORKERS, but no more than the input has
 * chunks — a log of one chunk gets one (a second would only start, ≈ 0.1 s of CPU and 12 MB for
 * nothing: BENCHMARKS.md).
 */
export function defaultWorkerCount(inputBytes: number | undefined, chunkBytes = CHUNK_BYTES): number {
  const chunks = inputBytes === undefined ? Infinity : Math.max(1, Math.ceil(inputBytes / chunkBytes));
  return Math.min(MAX_WORKERS, availableParallelism(), chunks);
}

/**
 * The bytes of `paths` when every one is a plain regular file, known before reading; else
 * undefined (a gzip file, whose lines are several times its size; a pipe; a file that cannot be
 * opened — the import says so when it opens it).
 */
export async function plainInputBytes(paths: readonly string[]): Promise<number | undefined> {
  let total = 0;
  for (const path of paths) {
    try {
      const info = await stat(path);
      if (!info.isFile() || (await isGzip(path))) return undefined;
      total += info.size;
    } catch {
      return undefined;
    }
  }
  return total;
}

/** Warm workers not taken yet, alive, each with the listener that forgets it when it fails. */
const warm: { worker: Worker; forget: () => void }[] = [];

/**
 * Starts `count` import worker threads at once, before the import has its configuration (`balise
 * import`, first thing): Node's start in each thread and the worker's code (≈ 0.2 s of CPU each
 * on a 2-vCPU machine) then run on the cores the importing thread leaves idle while it loads its
 * own modules, configuration and store. Each waits for its start (`takeWarmWorkers`); until
 * taken, they do not keep the process alive (a command that fails, or that a running gateway
 * runs, exits as before), and one that fails to start is forgotten (the import then starts a
 * new one, which says why).
 */
export function warmImportWorkers(count: number): void {
  for (let i = 0; i < count; i++) {
    const worker = importWorker(WARM_START);
    worker.unref();
    // Its error is the taker's to report (a new worker fails the same way), never uncaught here.
    const forget = () => {
      const index = warm.findIndex((entry) => entry.worker === worker);
      if (index >= 0) warm.splice(index, 1);
    };
    worker.on('error', forget);
    worker.on('exit', forget);
    warm.push({ worker, forget });
  }
}

/**
 * Up to `count` warm workers, each to be given its start as its first message (`{ start }`),
 * kept alive from now on; the warm workers left over are stopped.
 */
export function takeWarmWorkers(count: number): Worker[] {
  const taken = warm.splice(0, count);
  for (const { worker } of warm.splice(0)) void worker.terminate();
  return taken.map(({ worker, forget }) => {
    worker.off('error', forget);
    worker.off('exit', forget);
    worker.ref();
    return worker;
  });
}
