import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Config, SiteConfig } from '../config/schema.js';
import { AnomalyDetector } from '../insights/detectors/anomaly-detector.js';
import { KIND_WORDS } from '../insights/detectors/anomalies.js';
import { getSeries } from '../insights/getSeries.js';
import type { StoreReader } from '../store/store.js';
import { wallClockKey } from '../time.js';

/** The start or the end of an anomaly on one watched series. */
export interface SeriesEpisode {
  state: 'start' | 'end';
  site: string;
  subject: string;
  time: number;
  text: string;
  kind?: string;
  score?: number;
}

/** How each resolution is watched: probation and history read at first (points), end after quiet points. */
const RESOLUTIONS = {
  minute: { interval: '1m', width: 60_000, probation: 720, backfill: 1440, endAfter: 10 },
  hour: { interval: '1h', width: 3_600_000, probation: 336, backfill: 840, endAfter: 2 },
} as const;

/** A bucket counts once it ended this long ago (late events, the writer's batches). */
const GRACE_MS = 90_000;

interface Watched {
  /** Start (UTC ms) of the next bucket to judge. */
  next: number;
  /** The detector's state, once the series has had traffic. */
  detector: string | null;
  /** The open anomaly: when it started, and how many quiet points since. */
  open: { since: number; quiet: number } | null;
}

/** A bucket's start in the query model's form: the UTC wall clock, `2026-12-05T14:32`. */
const utcMinute = (ms: number) => wallClockKey(ms, 'UTC');

/** An instant in the site's zone, for sentences: `2026-12-05 14:32`. */
export const localMinute = (ms: number, timeZone: string): string =>
  wallClockKey(ms, timeZone).replace('T', ' ');

/**
 * The anomaly detector, live: one detector per site, metric and resolution (per minute, per
 * hour), fed each completed bucket once, its state saved to a file after every look so a restart
 * goes on where it stopped (a gap longer than the history read at first is skipped).
 */
export class LiveAnomalies {
  /** The busiest values of each dimension, asked once an hour. */
  private readonly tops = new Map<string, { hour: number; values: string[] }>();

  private constructor(
    private readonly file: string | null,
    private readonly watched: Map<string, Watched>,
  ) {}

  /** Opens the saved states at `file` (none yet: empty), or keeps them in memory for `null`. */
  static async open(file: string | null): Promise<LiveAnomalies> {
    const watched = new Map<string, Watched>();
    if (file) {
      const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return '{}';
        throw error;
      });
      try {
        for (const [key, value] of Object.entries(JSON.parse(text) as Record<string, Watched>))
          watched.set(key, value);
      } catch {
        // A state file cut by a crash: the detectors learn again from the history.
      }
    }
    return new LiveAnomalies(file, watched);
  }

  /** Series watched so far. */
  get size(): number {
    return this.watched.size;
  }

  /** Feeds every completed bucket since the last look; the anomalies that started or ended. */
  async look(store: StoreReader, config: Config, now = Date.now()): Promise<SeriesEpisode[]> {
    const episodes: SeriesEpisode[] = [];
    for (const site of config.sites)
      for (const metric of config.alerts.metrics) {
        for (const [name, resolution] of Object.entries(RESOLUTIONS))
          episodes.push(...(await this.feed(store, config, site, metric, name, resolution, now)));
        // Per region, country, node…: the hourly series of the site's busiest values of each.
        for (const dimension of config.alerts.breakdowns)
          for (const value of await this.topValues(store, config, site, metric, dimension, now))
            episodes.push(
              ...(await this.feed(store, config, site, metric, 'hour', RESOLUTIONS.hour, now, {
                dimension,
                value,
              })),
            );
      }
    await this.save();
    return episodes;
  }

  private async feed(
    store: StoreReader,
    config: Config,
    site: SiteConfig,
    metric: string,
    name: string,
    r: (typeof RESOLUTIONS)[keyof typeof RESOLUTIONS],
    now: number,
    only?: { dimension: string; value: string },
  ): Promise<SeriesEpisode[]> {
    const key = `${site.host}|${metric}|${name}${only ? `|${only.dimension}=${only.value}` : ''}`;
    const subject = `${metric} per ${name}${only ? ` in ${only.dimension} ${only.value}` : ''}`;
    const end = Math.floor((now - GRACE_MS) / r.width) * r.width;
    let w = this.watched.get(key);
    // A series seen for the first time reads its history to learn it, and alerts nothing of it:
    // what happened before alerts were on is not news (the Detections view shows it).
    const history = !w;
    if (!w || w.next < end - r.backfill * r.width)
      w = { next: end - r.backfill * r.width, detector: w?.detector ?? null, open: w?.open ?? null };
    this.watched.set(key, w);
    if (w.next >= end) return [];
    const series = await getSeries(store, config, {
      sites: [site.host],
      metric,
      interval: r.interval,
      tz: 'UTC',
      from: utcMinute(w.next),
      to: utcMinute(end),
      ...(only ? { filters: { [only.dimension]: only.value } } : {}),
    });
    const detector = w.detector ? AnomalyDetector.fromJSON(w.detector) : null;
    let live = detector;
    const episodes: SeriesEpisode[] = [];
    for (const row of series.rows) {
      const time = Date.parse(row.time);
      const value = row.value ?? 0;
      // A series starts with its first traffic: empty buckets before it are not "zero visits".
      if (!live && value === 0) continue;
      live ??= new AnomalyDetector({ probation: r.probation, stepMs: r.width });
      const judgement = live.push(value);
      if (history) continue;
      // An anomaly starts unless too few events either way mean anything (one visitor more on a
      // quiet site); the usual value is asked for only then (it sorts the last day).
      if (judgement.anomaly && !w.open) {
        if (Math.max(value, live.typical()) < config.alerts.minCount) continue;
        const when = localMinute(time, site.timezone);
        w.open = { since: time, quiet: 0 };
        episodes.push({
          state: 'start',
          site: site.host,
          subject,
          time,
          text: `${site.host}: ${subject} ${value} at ${when} local, ${judgement.kind ? KIND_WORDS[judgement.kind] : 'unusual'} (score ${judgement.score})`,
          ...(judgement.kind ? { kind: judgement.kind } : {}),
          score: judgement.score,
        });
      } else if (w.open) {
        w.open.quiet = judgement.active ? 0 : w.open.quiet + 1;
        if (w.open.quiet >= r.endAfter) {
          const minutes = Math.round((time + r.width - w.open.since) / 60_000);
          episodes.push({
            state: 'end',
            site: site.host,
            subject,
            time: time + r.width,
            text: `${site.host}: ${subject} back to usual at ${localMinute(time + r.width, site.timezone)} local, after ${minutes} min`,
          });
          w.open = null;
        }
      }
    }
    w.next = end;
    w.detector = live ? live.toJSON() : null;
    return episodes;
  }

  /** The site's five busiest values of `dimension` over the last week (asked once an hour). */
  private async topValues(
    store: StoreReader,
    config: Config,
    site: SiteConfig,
    metric: string,
    dimension: string,
    now: number,
  ): Promise<string[]> {
    const hour = Math.floor(now / 3_600_000);
    const key = `${site.host}|${metric}|${dimension}`;
    const known = this.tops.get(key);
    if (known && known.hour === hour) return known.values;
    const result = await getSeries(store, config, {
      sites: [site.host],
      metric,
      interval: '1d',
      tz: 'UTC',
      last: '7d',
      breakdown: dimension,
      top: 5,
    });
    const values = [
      ...new Set(
        result.rows
          .map((row) => row[dimension])
          .filter((v): v is string => typeof v === 'string' && v !== '(other)' && v !== ''),
      ),
    ];
    this.tops.set(key, { hour, values });
    return values;
  }

  private async save(): Promise<void> {
    if (!this.file) return;
    await mkdir(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.tmp`;
    await writeFile(temporary, JSON.stringify(Object.fromEntries(this.watched)));
    await rename(temporary, this.file);
  }
}
