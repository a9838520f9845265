import type { SiteConfig } from '../config/schema.js';
import { Memo } from '../memo.js';
import type { PipelineContext, RawEvent } from '../pipeline/event.js';
import type { DropReason } from '../pipeline/result.js';
import { runPipeline, type NamedStep, type PipelineResult } from '../pipeline/runner.js';
import { COLLECT_STEPS } from '../pipeline/steps.js';
import { maskPersonalData } from '../pipeline/steps/maskPersonalData.js';
import { putDevice } from '../pipeline/steps/putDevice.js';
import { putGeolocation } from '../pipeline/steps/putGeolocation.js';
import { putPage } from '../pipeline/steps/putPage.js';
import { putReferrer } from '../pipeline/steps/putReferrer.js';
import { csvNumber, csvText, csvTime } from '../store/csv.js';
import type { EventRow } from '../store/row.js';
import type { HttpRecord } from './record.js';

/**
 * The collect steps this builder was written for. For an imported HTTP request (no name, title,
 * properties or client clock) each of them reads one raw value and writes its own columns, so the
 * pipeline splits by value: the page steps depend on the target only, the referrer step on the
 * referrer, the device step on the User-Agent, geolocation on the IP, the visitor hash on (IP,
 * UA, day). If COLLECT_STEPS ever differs from this list, `HttpRowBuilder.applies` is false and
 * the importer runs the whole pipeline per line instead.
 */
const SEPARABLE_STEPS = [
  'clampTimestamp',
  'putPage',
  'putReferrer',
  'putDevice',
  'putGeolocation',
  'putVisitorHash',
  'putProps',
  'maskPersonalData',
];

const PAGE_STEPS: readonly NamedStep[] = [
  { name: 'putPage', run: putPage },
  { name: 'maskPersonalData', run: maskPersonalData },
];
const REFERRER_STEPS: readonly NamedStep[] = [{ name: 'putReferrer', run: putReferrer }];
const DEVICE_STEPS: readonly NamedStep[] = [{ name: 'putDevice', run: putDevice }];
const GEO_STEPS: readonly NamedStep[] = [{ name: 'putGeolocation', run: putGeolocation }];

// Each memo keeps its columns as CSV text with the separators around them, so that a line is
// joined from a few long pieces.

/**
 * The columns a target decides: `,site,request,,path,,` (site to title, then the separator
 * before the referrer), and the DLP findings it counts; or a drop.
 */
type Page = { csv: string; findings: readonly string[] } | { drop: DropReason; findings: readonly string[] };

interface Device {
  /** `device_type,browser,os,is_bot,` as CSV. */
  csv: string;
  isBot: boolean;
}

interface Geo {
  country: string | null;
  region: string | null;
  asn: number | null;
  /** `country,region,asn,` as CSV. */
  csv: string;
}

const CACHED = 50_000;

interface SiteMemos {
  pages: Memo<Page>;
  referrers: Memo<string>;
  siteCsv: string;
}

/** A one-line CSV answer, or the reason the pipeline drops the line. */
export type RowLine = { line: string } | { drop: DropReason };

/**
 * Row CSV lines for imported HTTP requests, the same as the collect pipeline would store
 * (`test/import-rows.test.ts` checks it line by line on the real log), but with each step run
 * once per distinct value of the one input it reads and its columns kept as CSV text: a log
 * repeats its paths, referrers, User-Agents and IPs, so the per-line work is a few lookups.
 * One builder per import; caches are bounded and in memory only.
 */
export class HttpRowBuilder {
  /** True while the collect steps are the ones this builder splits (see SEPARABLE_STEPS). */
  static readonly applies =
    COLLECT_STEPS.length === SEPARABLE_STEPS.length &&
    COLLECT_STEPS.every((step, i) => step.name === SEPARABLE_STEPS[i]);

  /** Per site: pages by target, referrer columns by referrer, the site's CSV column. */
  private readonly sites = new Map<SiteConfig, SiteMemos>();
  private lastSite: SiteConfig | undefined;
  private lastMemos: SiteMemos | undefined;
  private readonly devices = new Memo<Device>(CACHED);
  private readonly geos = new Memo<Geo>(CACHED);

  constructor(private readonly ctx: PipelineContext) {}

  /** The CSV line of `record` for `site` under `id`, or the pipeline's drop reason. */
  line(record: HttpRecord, site: SiteConfig, id: string): RowLine | Promise<RowLine> {
    const page = this.page(record, site);
    for (const kind of page.findings) this.ctx.countFinding(site.host, kind);
    if ('drop' in page) return { drop: page.drop };
    const device = this.devices.get(record.userAgent, (ua) => this.device(ua, site));
    const referrer = this.referrer(record.referrer, site);
    const geo = this.geos.get(record.ip, (ip) => this.geo(ip, site));
    // CDN exports give some of it themselves: the log's values win.
    const geoCsv =
      record.country == null && record.region == null && record.asn == null
        ? geo.csv
        : `${csvText(record.country ?? geo.country)},${csvText(record.region ?? geo.region)},${csvNumber(record.asn ?? geo.asn)},`;
    const deviceCsv =
      record.deviceType && !device.isBot
        ? `${csvText(record.deviceType)},${device.csv.slice(device.csv.indexOf(',') + 1)}`
        : device.csv;
    const head = `${id},${csvTime(record.ts)}${page.csv}${referrer}${geoCsv}${deviceCsv}`;
    const tail = `,,${csvText(record.node ?? null)},${csvNumber(record.status)},${csvNumber(record.bytes)},import,\n`;
    const hash = this.ctx.visitorHash(site, record.ip, record.userAgent, record.ts);
    return typeof hash === 'string'
      ? { line: head + hash + tail }
      : hash.then((h) => ({ line: head + h + tail }));
  }

  /** The memos of `site` (lines come in runs of one site: the last one is at hand). */
  private memos(site: SiteConfig): SiteMemos {
    if (site === this.lastSite) return this.lastMemos!;
    let memos = this.sites.get(site);
    if (!memos) {
      memos = {
        pages: new Memo<Page>(CACHED),
        referrers: new Memo<string>(CACHED),
        siteCsv: csvText(site.host),
      };
      this.sites.set(site, memos);
    }
    this.lastSite = site;
    this.lastMemos = memos;
    return memos;
  }

  private page(record: HttpRecord, site: SiteConfig): Page {
    const memos = this.memos(site);
    return memos.pages.get(record.target, (target) => {
      const findings: string[] = [];
      const result = this.run(PAGE_STEPS, { url: importUrl(target, site) }, site, (kind) =>
        findings.push(kind),
      );
      return result.kind === 'drop'
        ? { drop: result.reason, findings }
        : { csv: `,${memos.siteCsv},request,,${csvText(result.value.path)},,`, findings };
    });
  }

  private referrer(referrer: string | null, site: SiteConfig): string {
    if (referrer === null) return ',,';
    return this.memos(site).referrers.get(referrer, (value) => {
      const row = this.row(REFERRER_STEPS, { referrer: value }, site);
      return `${csvText(row.referrerHost)},${csvText(row.referrerClass)},`;
    });
  }

  private device(userAgent: string, site: SiteConfig): Device {
    const row = this.row(DEVICE_STEPS, { userAgent }, site);
    return {
      csv: `${csvText(row.deviceType)},${csvText(row.browser)},${csvText(row.os)},${row.isBot},`,
      isBot: row.isBot,
    };
  }

  private geo(ip: string, site: SiteConfig): Geo {
    const row = this.row(GEO_STEPS, { ip }, site);
    return {
      country: row.country,
      region: row.region,
      asn: row.asn,
      csv: `${csvText(row.country)},${csvText(row.region)},${csvNumber(row.asn)},`,
    };
  }

  private row(steps: readonly NamedStep[], raw: Partial<RawEvent>, site: SiteConfig): EventRow {
    const result = this.run(steps, raw, site, () => undefined);
    if (result.kind === 'drop') throw new Error(`import: step ${result.step ?? '?'} dropped a partial event`);
    return result.value;
  }

  private run(
    steps: readonly NamedStep[],
    raw: Partial<RawEvent>,
    site: SiteConfig,
    countFinding: (kind: string) => void,
  ): PipelineResult {
    return runSync(steps, { ...PARTIAL, ...raw }, site, {
      ...this.ctx,
      countFinding: (_site, kind) => countFinding(kind),
    });
  }
}

/** The raw event of an imported request with no value set: each step fills in the one it reads. */
const PARTIAL: RawEvent = {
  type: 'request',
  name: null,
  url: '',
  title: null,
  referrer: null,
  clientTimestamp: null,
  props: null,
  ip: '',
  userAgent: '',
  receivedAt: 0,
  source: 'import',
};

function runSync(
  steps: readonly NamedStep[],
  raw: RawEvent,
  site: SiteConfig,
  ctx: PipelineContext,
): PipelineResult {
  const result = runPipeline(steps, raw, site, ctx, '00000000-0000-7000-8000-000000000000');
  if (result instanceof Promise) throw new Error('import: a per-value step became asynchronous');
  return result;
}

/** The page URL of a log target: absolute targets as they are, paths on the site's host. */
export function importUrl(target: string, site: SiteConfig): string {
  return /^https?:\/\//i.test(target)
    ? target
    : `https://${site.host}${target.startsWith('/') ? '' : '/'}${target}`;
}
