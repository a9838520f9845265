import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { Config } from '../config/schema.js';
import { GeoLookup } from '../enrich/geo.js';
import type { LineIdScheme } from '../store/ids.js';
import type { BulkLoad } from '../store/store.js';
import { chunkCapacity, isGzip } from './chunks.js';
import { resolveFormat } from './formats/formats.js';
import { ImportError } from './import-error.js';
import type { ImportOptions } from './import.js';
import type { ProcessSetup } from './process.js';
import { startWorkers, type Runner } from './runners.js';

const MAX_WORKERS = 8;
/**
 * Bytes of log lines per chunk handed to a worker: 512 KiB (the chunks in flight and their CSV
 * ≈ 5 MB less at the peak than with 1 MiB, at the same speed: BENCHMARKS.md).
 */
export const CHUNK_BYTES = 2 ** 19;
/**
 * The store's memory during an import by a process that owns it (DuckDB: the row group being
 * inserted, its id check and a cache of the table; raised by the store when an insert needs more).
 * 40 MB: a batch of 122,880 rows of the real log needs no more; at 32 MB its insert ran out.
 */
export const STORE_MEMORY_MB = 40;

/**
 * What every chunk of an import is processed with, after checking what the command was given:
 * a configured `--site`, required by formats without a host field, and a format that compiles
 * (ImportError or FormatError otherwise). The visitor-hash secret is made here, once per import,
 * and the geolocation databases are read here once, into memory the workers share (or taken
 * from an import started early, `ImportOptions.early`).
 */
export async function processSetup(
  store: BulkLoad,
  config: Config,
  options: Pick<ImportOptions, 'format' | 'site' | 'tz' | 'showBad' | 'early'>,
): Promise<ProcessSetup> {
  // Made already when the import started early (its checks then failed or passed there).
  const setup = await (options.early?.setup ?? importSetup(config, options));
  return { ...setup, lineIds: await store.importLineIds() };
}

/** `processSetup` but the store's line-id scheme: what an import needs before its store is open. */
async function importSetup(
  config: Config,
  options: Pick<ImportOptions, 'format' | 'site' | 'tz' | 'showBad'>,
): Promise<Omit<ProcessSetup, 'lineIds'>> {
  const forced = options.site === undefined ? undefined : config.sites.find((s) => s.host === options.site);
  if (options.site !== undefined && !forced)
    throw new ImportError(
      `--site ${options.site} is not a configured site (sites: ${config.sites.map((s) => s.host).join(', ')})`,
    );
  if (!forced && (options.format === 'combined' || options.format === 'common'))
    throw new ImportError(`--site is required: the ${options.format} format has no host field`);
  const tz = options.tz ?? 'UTC';
  resolveFormat(options.format, config, tz);
  return {
    config,
    format: options.format,
    site: options.site,
    tz,
    showBad: options.showBad ?? 10,
    secret: randomBytes(32),
    geo: await GeoLookup.load(config.geo),
  };
}

/**
 * How many worker threads an import runs, chunks out at once, the shared memory slots for them
 * (one more: the next chunk is read while they are out), and the bytes of each.
 */
export function workerPlan(options: ImportOptions) {
  // By default a worker per core, but no more than the input has chunks: a log of one chunk gets
  // one (a second would only start, ≈ 0.1 s of CPU and 12 MB for nothing: BENCHMARKS.md).
  const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
  const chunks =
    options.inputBytes === undefined ? Infinity : Math.max(1, Math.ceil(options.inputBytes / chunkBytes));
  const count = Math.min(
    MAX_WORKERS,
    Math.max(0, options.workers ?? Math.min(availableParallelism(), chunks)),
  );
  // Chunks out at once (answers are taken in file order).
  const maxOut = Math.max(2, count * 2);
  return { count, maxOut, slots: maxOut + 1, capacity: chunkCapacity(chunkBytes) };
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

/**
 * An import's worker threads started before its store is open — `balise import`'s: loading and
 * opening the store (≈ 0.2 s, a new store's tables made) then overlaps the workers' start
 * (≈ 0.1 s). `importFiles` given it (`ImportOptions.early`) hands them the store's line-id
 * scheme; `close` stops them if the import never did (its store could not be opened).
 */
export interface EarlyImport {
  readonly setup: Promise<Omit<ProcessSetup, 'lineIds'>>;
  readonly runner: Promise<Runner> | null;
  start(lineIds: LineIdScheme): void;
  close(): Promise<void>;
}

/** Starts an import's setup and worker threads before its store is open (see EarlyImport). */
export function startEarly(config: Config, options: ImportOptions): EarlyImport {
  const plan = workerPlan(options);
  let give: (scheme: LineIdScheme) => void = () => undefined;
  let refuse: (error: Error) => void = () => undefined;
  const lineIds = new Promise<LineIdScheme>((resolve, reject) => {
    give = resolve;
    refuse = reject;
  });
  lineIds.catch(() => undefined); // refused when the import stops before its store is open
  const setup = importSetup(config, options);
  setup.catch(() => undefined); // awaited by importFiles, or dropped with the import
  const runner =
    plan.count === 0
      ? null
      : setup.then((s) => startWorkers(s, plan.count, plan.slots, plan.capacity, lineIds));
  runner?.catch(() => undefined);
  return {
    setup,
    runner,
    start: give,
    close: async () => {
      refuse(new ImportError('the import stopped before its store was open'));
      await runner?.then((r) => r.close()).catch(() => undefined);
    },
  };
}
