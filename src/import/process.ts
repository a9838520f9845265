import { isAscii } from 'node:buffer';
import { SiteIndex } from '../config/sites.js';
import type { Config, SiteConfig } from '../config/schema.js';
import { GeoLookup } from '../enrich/geo.js';
import { Memo } from '../memo.js';
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
import type { LineIdScheme } from '../store/ids.js';
import { MAX_LINE_BYTES, type Chunk } from './chunks.js';
import { CsvBatch } from './csv-batch.js';
import { resolveFormat } from './formats.js';
import { ImportHasher } from './hasher.js';
import { HttpRowBuilder, importUrl, type RowLine } from './http-rows.js';
import { lineIds, type LineIdOf } from './line-id.js';
import type { DnsRecord, HttpRecord, LineParser } from './record.js';

/** Steps for DNS queries: no page, referrer or User-Agent; the query type becomes the row's name. */
const IMPORT_DNS_STEPS: readonly NamedStep[] = [
  { name: 'clampTimestamp', run: clampTimestamp },
  { name: 'putGeolocation', run: putGeolocation },
  { name: 'putVisitorHash', run: putVisitorHash },
  { name: 'putProps', run: putProps },
  { name: 'maskPersonalData', run: maskPersonalData },
];

/** What every chunk of one import is processed with (structured-cloneable: it goes to workers). */
export interface ProcessSetup {
  config: Config;
  format: string;
  /** Host of the site every line goes to (`--site`), if any. */
  site?: string | undefined;
  /** Zone of zone-less log times. */
  tz: string;
  /** Bad lines kept per chunk (the import keeps the first ones overall). */
  showBad: number;
  /** This import's secret: the visitor-hash salt of each day is derived from it, then it is forgotten. */
  secret: Uint8Array;
  /** How the store's imported lines get their ids (`Store.importLineIds`). */
  lineIds: LineIdScheme;
}

/** What became of one chunk's lines. */
export interface ChunkResult {
  /** Row CSV (store/csv.ts) of the kept lines. */
  csv: Uint8Array;
  rows: number;
  /** Byte offset in `csv` at which each row starts, and each row's `ts` (to cut at any row). */
  rowStarts: Uint32Array;
  rowTimes: Float64Array;
  lines: number;
  badLines: number;
  /** The chunk's first bad lines: file line number and reason (never the content). */
  bad: { line: number; reason: string }[];
  dropped: Partial<Record<DropReason, number>>;
  unknownSite: number;
  unknownHosts: [string, number][];
  findings: Record<string, number>;
}

/** Sites by host (and alias), and by registrable domain for DNS names. */
class SiteResolver {
  private readonly index: SiteIndex;
  private readonly byDomain = new Map<string, SiteConfig>();
  private readonly domains = new Memo<string>(100_000);

  constructor(
    config: Config,
    /** The site of every line (`--site`), if given. */
    readonly forced: SiteConfig | undefined,
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
): Promise<RowLine> {
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

/**
 * Parses and runs the pipeline over the lines of chunks (one import, one thread): the same code
 * in a worker thread or in the importing thread. Caches live as long as the processor.
 */
export class ChunkProcessor {
  private constructor(
    private readonly setup: ProcessSetup,
    private readonly parse: LineParser,
    private readonly sites: SiteResolver,
    private readonly ctx: PipelineContext,
    private readonly builder: HttpRowBuilder | undefined,
    private readonly findings: Record<string, number>,
    private readonly idOf: LineIdOf,
  ) {}

  /** Opens the geolocation databases and compiles the format; throws FormatError on a bad format. */
  static async create(setup: ProcessSetup): Promise<ChunkProcessor> {
    const { config } = setup;
    const forced = setup.site === undefined ? undefined : config.sites.find((s) => s.host === setup.site);
    const parse = resolveFormat(setup.format, config, setup.tz);
    const geo = await GeoLookup.open(config.geo);
    const geoCache = new Memo<ReturnType<GeoLookup['lookup']>>(100_000);
    const hasher = new ImportHasher(setup.secret);
    const findings: Record<string, number> = {};
    const ctx: PipelineContext = {
      node: '',
      geo: (ip) => geoCache.get(ip, (key) => geo.lookup(key)),
      visitorHash: (site, ip, ua, ts) => hasher.hash(site.host, site.timezone, ip, ua, ts),
      countFinding: (_site, kind) => {
        findings[kind] = (findings[kind] ?? 0) + 1;
      },
    };
    const builder = HttpRowBuilder.applies ? new HttpRowBuilder(ctx) : undefined;
    const idOf = await lineIds(setup.lineIds);
    return new ChunkProcessor(setup, parse, new SiteResolver(config, forced), ctx, builder, findings, idOf);
  }

  /** Processes every line of `chunk`; the CSV goes into `spare` (an earlier result's memory) if given. */
  async process(chunk: Chunk, spare?: ArrayBuffer | SharedArrayBuffer): Promise<ChunkResult> {
    const state: ChunkState = {
      out: new CsvBatch(Math.max(64 * 1024, chunk.bytes.length + chunk.lines * 96), spare),
      result: {
        csv: new Uint8Array(0),
        rows: 0,
        rowStarts: new Uint32Array(0),
        rowTimes: new Float64Array(0),
        lines: chunk.lines,
        badLines: 0,
        bad: [],
        dropped: {},
        unknownSite: 0,
        unknownHosts: [],
        findings: {},
      },
      unknown: new Map<string, number>(),
      tooLong: new Set(chunk.tooLong),
      bytes: chunk.bytes,
      firstLine: chunk.firstLine,
      // Each line decoded on its own: a slice of one chunk-wide string would keep the whole
      // chunk alive in every cache whose key was cut from it. Most logs are ASCII (URLs are
      // percent-encoded): then a one-byte decoding reads the same text.
      encoding: isAscii(chunk.bytes) ? 'latin1' : 'utf8',
      next: 0,
      start: 0,
    };
    // The lines run in a synchronous loop of their own, left only to wait for a row that is a
    // promise: the JIT then compiles one stable loop, not this function again for each new kind
    // of chunk (about 0.6 s of compiler time per million lines before).
    for (let pending = this.lines(state); pending; pending = this.lines(state)) await pending;
    return this.finish(state);
  }

  /**
   * Processes the chunk's lines from `state.next` on, until the end (returns undefined) or a line
   * whose row is a promise (returns it, `state.next` past that line).
   */
  private lines(state: ChunkState): Promise<void> | undefined {
    const { bytes, encoding, firstLine } = state;
    const { lines } = state.result;
    while (state.next < lines) {
      const index = state.next++;
      const start = state.start;
      let end = bytes.indexOf(0x0a, start);
      state.start = end + 1;
      if (end > start && bytes[end - 1] === 0x0d) end--;
      const line = bytes.toString(encoding, start, end);
      const pending = this.line(state, line, firstLine + index, index, start, end);
      if (pending) return pending;
    }
    return undefined;
  }

  private finish(state: ChunkState): ChunkResult {
    const { out, result } = state;
    result.csv = out.bytes();
    result.rows = out.rows;
    result.rowStarts = out.rowStarts();
    result.rowTimes = out.rowTimes();
    result.unknownHosts = [...state.unknown];
    // Findings since the last chunk (the counter is shared by the pipeline context).
    for (const [kind, count] of Object.entries(this.findings)) {
      result.findings[kind] = count;
      delete this.findings[kind];
    }
    return result;
  }

  /**
   * One line (number `number`, `index` in its chunk, bytes `start` to `end` of the chunk without
   * its line ending): its row added, or counted where it belongs.
   */
  private line(
    state: ChunkState,
    line: string,
    number: number,
    index: number,
    start: number,
    end: number,
  ): Promise<void> | undefined {
    const { result } = state;
    if (line.length === 0) {
      this.bad(
        result,
        number,
        state.tooLong.has(index) ? `line longer than ${MAX_LINE_BYTES} bytes` : 'empty line',
      );
      return;
    }
    const record = this.parse(line);
    if ('error' in record) {
      this.bad(result, number, record.error);
      return;
    }
    if (record.kind === 'http' && !this.sites.forced && record.host === null) {
      this.bad(result, number, 'no host in the line (give --site)');
      return;
    }
    const site = record.kind === 'http' ? this.sites.forHttp(record.host) : this.sites.forDns(record.name);
    if (!site) {
      result.unknownSite++;
      const host = record.kind === 'http' ? (record.host ?? '(no host)') : this.sites.domainOf(record.name);
      state.unknown.set(host, (state.unknown.get(host) ?? 0) + 1);
      return;
    }
    const id = this.idOf(record.ts, site.host, number, line, state.bytes, start, end);
    const made =
      this.builder && record.kind === 'http'
        ? this.builder.line(record, site, id)
        : pipelineLine(record, site, this.ctx, id);
    if (made instanceof Promise) return made.then((row) => keep(state, row, record.ts));
    keep(state, made, record.ts);
    return;
  }

  private bad(result: ChunkResult, line: number, reason: string): void {
    result.badLines++;
    if (result.bad.length < this.setup.showBad) result.bad.push({ line, reason });
  }
}

/**
 * A chunk being processed: its CSV, its counts (`result.lines` its number of lines), the hosts of
 * no site, its too-long lines, its bytes and how they decode, and the index and byte offset of
 * the next line.
 */
interface ChunkState {
  out: CsvBatch;
  result: ChunkResult;
  unknown: Map<string, number>;
  tooLong: Set<number>;
  bytes: Buffer;
  firstLine: number;
  encoding: 'latin1' | 'utf8';
  next: number;
  start: number;
}

/** Adds a line's row at time `ts` to the chunk, or counts its drop. */
function keep(state: ChunkState, row: RowLine, ts: number): void {
  if ('drop' in row) {
    const { dropped } = state.result;
    dropped[row.drop] = (dropped[row.drop] ?? 0) + 1;
  } else state.out.add(row.line, ts);
}
