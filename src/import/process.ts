import { isAscii } from 'node:buffer';
import { SiteIndex } from '../config/sites.js';
import type { Config, SiteConfig } from '../config/schema.js';
import { GeoLookup, type GeoData } from '../enrich/geo.js';
import { Memo } from '../memo.js';
import type { PipelineContext, RawEvent } from '../pipeline/event.js';
import type { DropReason } from '../pipeline/result.js';
import { Pipeline, type PipelineResult } from '../pipeline/runner.js';
import type { Step } from '../pipeline/step.js';
import { PIPELINE_STEPS } from '../pipeline/steps.js';
import { registrableDomain } from '../privacy/referrer.js';
import type { LineIdScheme } from '../store/ids.js';
import { MAX_LINE_BYTES, type Chunk } from './chunks.js';
import { CsvBatch } from './csv-batch.js';
import { resolveFormat } from './formats/formats.js';
import type { DnsRecord, HttpRecord, LineParser } from './formats/record.js';
import { ImportHasher } from './hasher.js';
import { lineIds, type LineIdOf } from './line-id.js';

/**
 * Answers kept per step and site: a log repeats its paths, referrers, User-Agents and IPs, so
 * each step runs about once per distinct value (docs/pipeline.md). Few: the values that repeat
 * are a few thousand even in a year of a site's log, and each answer kept holds its key's whole
 * log line — 50,000 per step made a worker's heap reach 130 MB on a log whose paths, referrers
 * and IPs never repeat (1.2 GB for the import of a million such lines), for no speed on the
 * real log.
 */
const MEMO_SIZE = 4_096;
/** Answers kept of the geolocation and of the domain-to-site lookups (as MEMO_SIZE). */
const LOOKUP_MEMO_SIZE = 10_000;

/** The pipeline of an import: the live pipeline's steps (or `steps`), memoised for a log's repeats. */
export function importPipeline(steps: readonly Step[] = PIPELINE_STEPS): Pipeline {
  return new Pipeline(steps, { memo: MEMO_SIZE });
}

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
  /** The geolocation databases of `config.geo`, read once and shared by every worker. */
  geo: GeoData;
}

/** A worker's setup: the store's line-id scheme comes later when it started before the store was open. */
export type WorkerSetup = Omit<ProcessSetup, 'lineIds'> & { lineIds?: LineIdScheme };

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
  private readonly domains = new Memo<string>(LOOKUP_MEMO_SIZE);

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

/** The page URL of a log target: absolute targets as they are, paths on the site's host. */
export function importUrl(target: string, site: SiteConfig): string {
  return /^https?:\/\//i.test(target)
    ? target
    : `https://${site.host}${target.startsWith('/') ? '' : '/'}${target}`;
}

/** The raw event of a log line: what the pipeline reads, the log's own values (CDN exports) included. */
export function rawOfRecord(record: HttpRecord | DnsRecord, site: SiteConfig): RawEvent {
  // One object literal of one shape for both kinds (a spread would make a slow, shapeless one).
  const http = record.kind === 'http';
  return {
    // A DNS query: no page, referrer or User-Agent; its query type becomes the row's name.
    type: http ? 'request' : 'dns',
    name: http ? null : record.qtype,
    url: http ? importUrl(record.target, site) : '',
    title: null,
    referrer: http ? record.referrer : null,
    clientTimestamp: record.ts,
    props: null,
    ip: record.ip,
    userAgent: http ? record.userAgent : '',
    receivedAt: record.ts,
    source: 'import',
    status: http ? record.status : null,
    bytes: http ? record.bytes : null,
    node: http ? (record.node ?? null) : null,
    country: http ? (record.country ?? null) : null,
    region: http ? (record.region ?? null) : null,
    asn: http ? (record.asn ?? null) : null,
    deviceType: http ? (record.deviceType ?? null) : null,
  };
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
    private readonly pipeline: Pipeline,
    private readonly findings: Record<string, number>,
    private readonly idOf: LineIdOf,
  ) {}

  /** Looks up in the shared geolocation databases and compiles the format; throws FormatError on a bad format. */
  static async create(setup: ProcessSetup): Promise<ChunkProcessor> {
    const { config } = setup;
    const forced = setup.site === undefined ? undefined : config.sites.find((s) => s.host === setup.site);
    const parse = resolveFormat(setup.format, config, setup.tz);
    const geo = GeoLookup.fromData(setup.geo, config.geo);
    const geoCache = new Memo<ReturnType<GeoLookup['lookup']>>(LOOKUP_MEMO_SIZE);
    const hasher = new ImportHasher(setup.secret);
    const findings: Record<string, number> = {};
    const ctx: PipelineContext = {
      // Imported rows carry the node their log names, or none.
      node: null,
      geo: (ip) => geoCache.get(ip, (key) => geo.lookup(key)),
      visitorHash: (site, ip, ua, ts) => hasher.hash(site.host, site.timezone, ip, ua, ts),
      countFinding: (_site, kind) => {
        findings[kind] = (findings[kind] ?? 0) + 1;
      },
    };
    const pipeline = importPipeline();
    const idOf = await lineIds(setup.lineIds);
    return new ChunkProcessor(setup, parse, new SiteResolver(config, forced), ctx, pipeline, findings, idOf);
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
    const made = this.pipeline.run(rawOfRecord(record, site), site, this.ctx, id);
    if (made instanceof Promise) return made.then((result) => keep(state, result));
    keep(state, made);
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

/** Adds a line's row to the chunk, or counts its drop. */
function keep(state: ChunkState, result: PipelineResult): void {
  if (result.kind === 'drop') {
    const { dropped } = state.result;
    dropped[result.reason] = (dropped[result.reason] ?? 0) + 1;
  } else state.out.addRow(result.value);
}
