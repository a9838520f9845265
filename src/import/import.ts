import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SiteIndex } from '../collect/sites.js';
import { Memo } from '../memo.js';
import type { Config, SiteConfig } from '../config/schema.js';
import { GeoLookup } from '../enrich/geo.js';
import type { PipelineContext, RawEvent } from '../pipeline/event.js';
import type { DropReason } from '../pipeline/result.js';
import { runPipeline, type NamedStep } from '../pipeline/runner.js';
import { COLLECT_STEPS } from '../pipeline/steps.js';
import { clampTimestamp } from '../pipeline/steps/clampTimestamp.js';
import { maskPersonalData } from '../pipeline/steps/maskPersonalData.js';
import { putGeolocation } from '../pipeline/steps/putGeolocation.js';
import { putProps } from '../pipeline/steps/putProps.js';
import { putVisitorHash } from '../pipeline/steps/putVisitorHash.js';
import { registrableDomain } from '../privacy/referrer.js';
import { rowCsvLine } from '../store/csv.js';
import { deterministicId } from '../store/ids.js';
import type { Store } from '../store/store.js';
import { CsvBatch } from './csv-batch.js';
import { resolveFormat } from './formats.js';
import { ImportHasher } from './hasher.js';
import { HttpRowBuilder, importUrl } from './http-rows.js';
import { readLines } from './lines.js';
import type { DnsRecord, HttpRecord } from './record.js';

/** Steps for DNS queries: no page, referrer or User-Agent; the query type becomes the row's name. */
export const IMPORT_DNS_STEPS: readonly NamedStep[] = [
  { name: 'clampTimestamp', run: clampTimestamp },
  { name: 'putGeolocation', run: putGeolocation },
  { name: 'putVisitorHash', run: putVisitorHash },
  { name: 'putProps', run: putProps },
  { name: 'maskPersonalData', run: maskPersonalData },
];

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
  /** Rows per store write (default 100,000). */
  batchRows?: number;
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
}

const MAX_UNKNOWN_HOSTS = 1000;
/** Bytes of each of the two batch buffers (100,000 rows of a web log take about 18 MB). */
const BATCH_BYTES = 32 * 2 ** 20;
const TIMES_KEPT = 512;

/**
 * Numbers identical lines (same text) so that two real identical requests get two ids while a
 * re-import of the same file gets the same ids again. Identical lines share a timestamp, so
 * lines are remembered per timestamp for the last TIMES_KEPT distinct timestamps (logs are
 * nearly in time order): memory stays flat.
 */
class Occurrences {
  private readonly byTime = new Map<number, Map<string, number>>();

  next(text: string, ts: number): number {
    let lines = this.byTime.get(ts);
    if (!lines) {
      if (this.byTime.size >= TIMES_KEPT) this.byTime.delete(this.byTime.keys().next().value!);
      this.byTime.set(ts, (lines = new Map<string, number>()));
    }
    const count = lines.get(text);
    lines.set(text, count === undefined ? 0 : count + 1);
    return count === undefined ? 0 : count + 1;
  }
}

/** Sites by host (and alias), and by registrable domain for DNS names. */
class SiteResolver {
  private readonly index: SiteIndex;
  private readonly byDomain = new Map<string, SiteConfig>();
  private readonly domains = new Memo<string>(100_000);

  constructor(
    private readonly config: Config,
    private readonly forced: SiteConfig | undefined,
  ) {
    this.index = new SiteIndex(config.sites);
    for (const site of config.sites)
      for (const host of [site.host, ...site.aliases])
        if (!this.byDomain.has(registrableDomain(host))) this.byDomain.set(registrableDomain(host), site);
  }

  forHttp(host: string | null): SiteConfig | undefined {
    return this.forced ?? this.index.find(host);
  }

  forDns(name: string): SiteConfig | undefined {
    const site = this.byDomain.get(this.domainOf(name));
    return this.forced && site !== this.forced ? undefined : site;
  }

  domainOf(name: string): string {
    return this.domains.get(name, registrableDomain);
  }

  get sites(): readonly SiteConfig[] {
    return this.config.sites;
  }
}

function httpRaw(record: HttpRecord, site: SiteConfig): RawEvent {
  return {
    type: 'request',
    name: null,
    url: importUrl(record.target, site),
    title: null,
    referrer: record.referrer,
    clientTimestamp: record.ts,
    props: null,
    ip: record.ip,
    userAgent: record.userAgent,
    receivedAt: record.ts,
    source: 'import',
    status: record.status,
    bytes: record.bytes,
  };
}

function dnsRaw(record: DnsRecord): RawEvent {
  return {
    type: 'dns',
    name: record.qtype,
    url: '',
    title: null,
    referrer: null,
    clientTimestamp: record.ts,
    props: null,
    ip: record.ip,
    userAgent: '',
    receivedAt: record.ts,
    source: 'import',
  };
}

/**
 * The CSV line of a record through the whole pipeline, line by line: DNS queries, and HTTP
 * requests whenever the per-value builder does not apply. The log's own values (CDN exports)
 * win over the lookups.
 */
export async function pipelineLine(
  record: HttpRecord | DnsRecord,
  site: SiteConfig,
  ctx: PipelineContext,
  id: string,
): Promise<{ line: string } | { drop: DropReason }> {
  const pending = runPipeline(
    // HTTP requests run the collect pipeline's own steps (no tools: imports never leave).
    record.kind === 'http' ? COLLECT_STEPS : IMPORT_DNS_STEPS,
    record.kind === 'http' ? httpRaw(record, site) : dnsRaw(record),
    site,
    ctx,
    id,
  );
  const result = pending instanceof Promise ? await pending : pending;
  if (result.kind === 'drop') return { drop: result.reason };
  const row = result.value;
  if (record.kind === 'http') {
    row.status = record.status;
    row.bytes = record.bytes;
    row.node = record.node ?? null;
    if (record.country !== undefined && record.country !== null) row.country = record.country;
    if (record.region !== undefined && record.region !== null) row.region = record.region;
    if (record.asn !== undefined && record.asn !== null) row.asn = record.asn;
    if (record.deviceType && !row.isBot) row.deviceType = record.deviceType;
  } else {
    row.node = null;
  }
  return { line: rowCsvLine(row) };
}

/** The error an import stops on before reading anything (bad options); says what to fix. */
export class ImportError extends Error {}

/**
 * Imports log files through the collect pipeline (enrichment and privacy, no tools) into the
 * store, streaming, in constant memory. Bad lines are counted and never stop the import; the same
 * lines imported again are recognised by their ids and not counted twice.
 */
export async function importFiles(
  store: Store,
  config: Config,
  files: readonly string[],
  options: ImportOptions,
): Promise<ImportSummary> {
  const forced = options.site === undefined ? undefined : config.sites.find((s) => s.host === options.site);
  if (options.site !== undefined && !forced)
    throw new ImportError(
      `--site ${options.site} is not a configured site (sites: ${config.sites.map((s) => s.host).join(', ')})`,
    );
  if (!forced && (options.format === 'combined' || options.format === 'common'))
    throw new ImportError(`--site is required: the ${options.format} format has no host field`);
  const parse = resolveFormat(options.format, config, options.tz ?? 'UTC');
  const sizes = files.map((file) => {
    try {
      return statSync(file).size;
    } catch {
      throw new ImportError(`cannot read ${file}: no such file`);
    }
  });
  const allBytesTotal = sizes.reduce((a, b) => a + b, 0);
  const sites = new SiteResolver(config, forced);
  const geo = await GeoLookup.open(config.geo);
  const geoCache = new Memo<ReturnType<GeoLookup['lookup']>>(100_000);
  const hasher = new ImportHasher();
  const findings: Record<string, number> = {};
  const ctx: PipelineContext = {
    node: '',
    geo: (ip) => geoCache.get(ip, (key) => geo.lookup(key)),
    visitorHash: (site, ip, ua, ts) => hasher.hash(site.host, site.timezone, ip, ua, ts),
    countFinding: (_site, kind) => {
      findings[kind] = (findings[kind] ?? 0) + 1;
    },
  };
  const showBad = options.showBad ?? 10;
  const batchRows = options.batchRows ?? 100_000;
  const progressMs = options.progressMs ?? 200;
  const summary: ImportSummary = {
    files: files.length,
    bytes: allBytesTotal,
    lines: 0,
    imported: 0,
    duplicates: 0,
    badLines: 0,
    bad: [],
    dropped: {},
    unknownSite: 0,
    unknownHosts: [],
    findings,
    elapsedMs: 0,
    linesPerSecond: 0,
  };
  const unknown = new Map<string, number>();
  const started = performance.now();
  // Batches go to the store as row CSV files that DuckDB parses on its own threads, one batch in
  // flight while the other buffer fills: memory stays at two buffers whatever the file size.
  const spool = mkdtempSync(join(tmpdir(), 'balise-import-'));
  const buffers = [new CsvBatch(BATCH_BYTES), new CsvBatch(BATCH_BYTES)] as const;
  let current = 0;
  let batches = 0;
  let inflight: Promise<void> = Promise.resolve();
  let failure: Error | undefined;
  const settle = async () => {
    await inflight;
    if (failure !== undefined) throw failure;
  };
  const flush = async () => {
    const batch = buffers[current]!;
    if (batch.rows === 0) return;
    // The other buffer's batch is stored once this resolves: it can be refilled.
    await settle();
    const path = join(spool, `batch-${batches++}.csv`);
    inflight = (async () => {
      await writeFile(path, batch.bytes());
      const { inserted } = await store.appendCsv(path, { minTs: batch.minTs, maxTs: batch.maxTs });
      await rm(path, { force: true });
      summary.imported += inserted;
      summary.duplicates += batch.rows - inserted;
    })().catch((error: unknown) => {
      failure = error instanceof Error ? error : new Error(String(error));
    });
    current = 1 - current;
    buffers[current]!.reset();
  };
  const builder = HttpRowBuilder.applies ? new HttpRowBuilder(ctx) : undefined;
  let doneBytes = 0;
  try {
    for (const [fileIndex, file] of files.entries()) {
      const occurrences = new Occurrences();
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
      const bad = (line: number, reason: string) => {
        summary.badLines++;
        if (summary.bad.length < showBad) summary.bad.push({ file, line, reason });
      };
      for await (const line of readLines(file, (bytes) => (bytesRead = bytes))) {
        summary.lines++;
        if ((summary.lines & 1023) === 0 && options.onProgress) {
          const now = performance.now();
          if (now >= nextProgress) {
            nextProgress = now + progressMs;
            report();
          }
        }
        if ('error' in line) {
          bad(line.number, line.error);
          continue;
        }
        if (line.text.length === 0) {
          bad(line.number, 'empty line');
          continue;
        }
        const record = parse(line.text);
        if ('error' in record) {
          bad(line.number, record.error);
          continue;
        }
        if (record.kind === 'http' && !forced && record.host === null) {
          bad(line.number, 'no host in the line (give --site)');
          continue;
        }
        const site = record.kind === 'http' ? sites.forHttp(record.host) : sites.forDns(record.name);
        if (!site) {
          summary.unknownSite++;
          const host = record.kind === 'http' ? (record.host ?? '(no host)') : sites.domainOf(record.name);
          if (unknown.has(host) || unknown.size < MAX_UNKNOWN_HOSTS)
            unknown.set(host, (unknown.get(host) ?? 0) + 1);
          continue;
        }
        const id = deterministicId(
          record.ts,
          `import\n${site.host}\n${occurrences.next(line.text, record.ts)}\n${line.text}`,
        );
        const made =
          builder && record.kind === 'http'
            ? builder.line(record, site, id)
            : pipelineLine(record, site, ctx, id);
        const result = made instanceof Promise ? await made : made;
        if ('drop' in result) {
          summary.dropped[result.drop] = (summary.dropped[result.drop] ?? 0) + 1;
          continue;
        }
        let batch = buffers[current]!;
        if (batch.rows >= batchRows || batch.full(result.line)) {
          await flush();
          batch = buffers[current]!;
        }
        batch.add(result.line, record.ts);
      }
      bytesRead = sizes[fileIndex]!;
      report();
      doneBytes += sizes[fileIndex]!;
    }
    await flush();
    await settle();
  } finally {
    await inflight;
    rmSync(spool, { recursive: true, force: true });
  }
  summary.unknownHosts = [...unknown]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([host, lines]) => ({ host, lines }));
  summary.elapsedMs = performance.now() - started;
  summary.linesPerSecond = summary.lines / Math.max(summary.elapsedMs / 1000, 1e-9);
  return summary;
}
