import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ALERT_DETECTORS } from '../config/alerts-schema.js';
import { BaliseError } from '../errors.js';

/** One alert: the start or the end of what a detector found, as recorded and notified. */
export interface Alert {
  /** Unique id of this record. */
  id: string;
  /** What the start and the end share: detector, site and subject. */
  episode: string;
  state: 'start' | 'end';
  detector: 'anomalies' | 'attacks' | 'shifts' | 'outages';
  site: string;
  /** The series (`pageviews per minute`) or the finding's subject (a path, a region, a node). */
  subject: string;
  /** When the finding starts or ends (UTC, ISO 8601). */
  time: string;
  /** When this record was made (UTC, ISO 8601). */
  at: string;
  /** The detector's sentence. */
  text: string;
  kind?: string;
  score?: number;
  /** What became of its notification. */
  notified: 'sent' | 'failed' | 'rate_limited' | 'no_channel';
  /** An operator's note on it (dashboard, API): what it was, what was done. */
  note?: { text: string; at: string };
}

/** Longest note an operator may write on an alert. */
export const MAX_NOTE = 500;

/** What `list` filters on. */
export interface AlertFilter {
  site?: string;
  detector?: string;
  /** Only alerts whose `time` is at or after this instant (ms). */
  since?: number;
  limit?: number;
}

const KEPT = 10_000;

/**
 * The filter of a listing from its text parameters (API query, CLI flags): `site`, `detector`,
 * `since` (ISO date or date-time, UTC unless it says otherwise), `limit` (1–1000, default 100);
 * anything else, or a bad value, is refused with `invalid_query` naming the parameter.
 */
export function alertFilter(q: Record<string, string | undefined>): AlertFilter {
  const unknown = Object.keys(q).find((k) => !['site', 'detector', 'since', 'limit'].includes(k));
  if (unknown)
    throw new BaliseError(
      'invalid_query',
      `unknown parameter ${unknown} (site, detector, since, limit)`,
      unknown,
    );
  if (q.detector && !(ALERT_DETECTORS as readonly string[]).includes(q.detector))
    throw new BaliseError(
      'invalid_query',
      `detector must be one of ${ALERT_DETECTORS.join(', ')}`,
      'detector',
    );
  const since =
    q.since === undefined
      ? undefined
      : Date.parse(
          /T.*(Z|[+-]\d\d:?\d\d)$/.test(q.since)
            ? q.since
            : `${q.since}${q.since.includes('T') ? 'Z' : 'T00:00Z'}`,
        );
  if (since !== undefined && Number.isNaN(since))
    throw new BaliseError(
      'invalid_query',
      'since must be an ISO date or date-time such as 2026-12-05T14:00Z',
      'since',
    );
  const limit = q.limit === undefined ? 100 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new BaliseError('invalid_query', 'limit must be an integer from 1 to 1000', 'limit');
  return {
    ...(q.site ? { site: q.site } : {}),
    ...(q.detector ? { detector: q.detector } : {}),
    ...(since !== undefined ? { since } : {}),
    limit,
  };
}

/**
 * The alerts, newest last: a JSON-lines file (one alert a line, appended, read back at start) and
 * the last 10,000 in memory for the API and the dashboard.
 */
export class AlertLog {
  private readonly alerts: Alert[] = [];

  private constructor(private readonly file: string | null) {}

  /** Opens the log at `file` (created when missing), or an in-memory one for `null`. */
  static async open(file: string | null): Promise<AlertLog> {
    const log = new AlertLog(file);
    if (file) {
      await mkdir(dirname(file), { recursive: true });
      const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return '';
        throw error;
      });
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        try {
          const record = JSON.parse(line) as Alert | { noteOn: string; text: string; at: string };
          if ('noteOn' in record) {
            const alert = log.alerts.find((a) => a.id === record.noteOn);
            if (alert) alert.note = { text: record.text, at: record.at };
          } else log.alerts.push(record);
        } catch {
          // A line cut by a crash in the middle of a write: the others stay readable.
        }
      }
      log.alerts.splice(0, Math.max(0, log.alerts.length - KEPT));
    }
    return log;
  }

  /** Records an alert (appended to the file before it is listed). */
  async add(alert: Alert): Promise<void> {
    if (this.file) await appendFile(this.file, `${JSON.stringify(alert)}\n`);
    this.alerts.push(alert);
    if (this.alerts.length > KEPT) this.alerts.shift();
  }

  /**
   * Writes an operator's note on the alert `id` (replacing an earlier one; an empty text removes
   * it); the alert, or null when no alert has that id.
   */
  async annotate(id: string, text: string, now = Date.now()): Promise<Alert | null> {
    const alert = this.alerts.find((a) => a.id === id);
    if (!alert) return null;
    const at = new Date(now).toISOString();
    if (this.file) await appendFile(this.file, `${JSON.stringify({ noteOn: id, text, at })}\n`);
    if (text) alert.note = { text, at };
    else delete alert.note;
    return alert;
  }

  /** Alerts matching `filter`, newest first. */
  list(filter: AlertFilter = {}): Alert[] {
    const out: Alert[] = [];
    for (let i = this.alerts.length - 1; i >= 0 && out.length < (filter.limit ?? 100); i--) {
      const a = this.alerts[i]!;
      if (filter.site && a.site !== filter.site) continue;
      if (filter.detector && a.detector !== filter.detector) continue;
      if (filter.since !== undefined && Date.parse(a.time) < filter.since) continue;
      out.push(a);
    }
    return out;
  }
}
