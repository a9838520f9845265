import { randomUUID } from 'node:crypto';
import type { Config, SiteConfig } from '../config/schema.js';
import { detectAttacks } from '../insights/detectors/attacks.js';
import { detectOutages } from '../insights/detectors/outages.js';
import { detectShifts } from '../insights/detectors/shifts.js';
import type { StoreReader } from '../store/store.js';
import { wallClockKey } from '../time.js';
import type { Alert, AlertLog } from './alert-log.js';
import { localMinute, type LiveAnomalies } from './live-anomalies.js';
import type { Notifier } from './notify.js';

/** One finding of a windowed detector: what it is about, and its sentence. */
interface Found {
  subject: string;
  text: string;
}

type Windowed = 'attacks' | 'shifts' | 'outages';

const minute = (ms: number) => wallClockKey(ms, 'UTC');

/** The windowed detectors, each on its last minutes of one site (attacks: the last ten). */
const WINDOWED: Record<
  Windowed,
  (store: StoreReader, config: Config, site: SiteConfig, now: number) => Promise<Found[]>
> = {
  attacks: async (store, config, site, now) =>
    (
      await detectAttacks(
        store,
        config,
        { sites: [site.host], from: minute(now - 10 * 60_000), to: minute(now + 60_000), tz: 'UTC' },
        {},
        now,
      )
    ).attacks.map((a) => ({ subject: a.path, text: a.text })),
  shifts: async (store, config, site, now) =>
    (
      await detectShifts(
        store,
        config,
        { sites: [site.host], last: '1h', interval: '15m', tz: 'UTC' },
        { dimension: 'node' },
        now,
      )
    ).shifts.map((s) => ({
      subject: `node ${s.loser.value} → ${s.gainer.value}`,
      text: `${site.host}: ${s.text}`,
    })),
  outages: async (store, config, site, now) =>
    (
      await detectOutages(
        store,
        config,
        { sites: [site.host], last: '3h', interval: '1h', tz: 'UTC' },
        { dimension: 'region' },
        now,
      )
    ).outages.map((o) => ({ subject: `region ${o.value}`, text: `${site.host}: ${o.text}` })),
};

/** Counters for `/metrics`. */
export interface AlertCounters {
  alerts: Record<string, number>;
  notified: Record<string, number>;
  lookErrors: number;
}

/**
 * Live detection: every `alerts.everySeconds`, the anomaly detector on each watched series and
 * the attack, shift and outage detectors on each site's last minutes; what starts and ends is
 * recorded in the alert log and notified (each episode's start once, its end once).
 */
export class AlertWatch {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** Open episodes of the windowed detectors, with the last time they were still found. */
  private readonly open = new Map<string, { seen: number; alert: Alert }>();
  readonly counters: AlertCounters = { alerts: {}, notified: {}, lookErrors: 0 };

  constructor(
    private readonly store: StoreReader,
    private readonly config: () => Config,
    private readonly anomalies: LiveAnomalies,
    readonly log: AlertLog,
    private readonly notifier: Notifier,
    private readonly warn: (line: string) => void,
  ) {}

  /** Looks now and then every `alerts.everySeconds`. */
  start(): void {
    const every = this.config().alerts.everySeconds * 1000;
    this.timer = setInterval(() => void this.look(), every);
    this.timer.unref();
    void this.look();
  }

  /** Stops looking; ends the notifications' retries and waits for a look in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // A webhook being retried does not hold the shutdown: its wait ends now.
    this.notifier.close();
    await this.running;
  }

  /** One look (a look already running is awaited instead). */
  look(now = Date.now()): Promise<void> {
    this.running ??= this.lookNow(now).finally(() => (this.running = null));
    return this.running;
  }

  private async lookNow(now: number): Promise<void> {
    const config = this.config();
    if (config.alerts.detectors.includes('anomalies')) {
      try {
        for (const e of await this.anomalies.look(this.store, config, now))
          await this.record({
            episode: `anomalies|${e.site}|${e.subject}`,
            state: e.state,
            detector: 'anomalies',
            site: e.site,
            subject: e.subject,
            time: new Date(e.time).toISOString(),
            text: e.text,
            ...(e.kind ? { kind: e.kind } : {}),
            ...(e.score !== undefined ? { score: e.score } : {}),
          });
      } catch (error) {
        this.failed('anomalies', error);
      }
    }
    const quietMs = config.alerts.quietMinutes * 60_000;
    for (const detector of Object.keys(WINDOWED) as Windowed[]) {
      if (!config.alerts.detectors.includes(detector)) continue;
      for (const site of config.sites) {
        let found: Found[];
        try {
          found = await WINDOWED[detector](this.store, config, site, now);
        } catch (error) {
          this.failed(`${detector} on ${site.host}`, error);
          continue;
        }
        for (const f of found) {
          const episode = `${detector}|${site.host}|${f.subject}`;
          const open = this.open.get(episode);
          if (open) {
            open.seen = now;
            continue;
          }
          const alert = await this.record({
            episode,
            state: 'start',
            detector,
            site: site.host,
            subject: f.subject,
            time: new Date(now).toISOString(),
            text: f.text,
          });
          this.open.set(episode, { seen: now, alert });
        }
      }
    }
    for (const [episode, { seen, alert }] of this.open) {
      if (seen > now - quietMs) continue;
      this.open.delete(episode);
      const site = config.sites.find((s) => s.host === alert.site);
      await this.record({
        episode,
        state: 'end',
        detector: alert.detector,
        site: alert.site,
        subject: alert.subject,
        time: new Date(now).toISOString(),
        text: `${alert.site}: ${alert.detector.replace(/s$/, '')} on ${alert.subject} over (not found since ${localMinute(seen, site?.timezone ?? 'UTC')} local)`,
      });
    }
  }

  private failed(what: string, error: unknown): void {
    this.counters.lookErrors++;
    this.warn(
      `alerts: the ${what} detector failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }

  private async record(fields: Omit<Alert, 'id' | 'at' | 'notified'>): Promise<Alert> {
    const alert: Alert = {
      id: randomUUID(),
      at: new Date().toISOString(),
      ...fields,
      notified: 'no_channel',
    };
    alert.notified = await this.notifier.send(alert);
    await this.log.add(alert);
    this.counters.alerts[alert.detector] = (this.counters.alerts[alert.detector] ?? 0) + 1;
    this.counters.notified[alert.notified] = (this.counters.notified[alert.notified] ?? 0) + 1;
    return alert;
  }
}
