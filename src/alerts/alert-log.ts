import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

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
