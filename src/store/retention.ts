import { errorLine } from '../errors.js';
import type { StoreMaintenance } from './store.js';

const DAY_MS = 86_400_000;

/** The first instant kept under a retention of `months`: midnight UTC, `months` calendar months before `now`. */
export function retentionCutoff(months: number, now: number = Date.now()): number {
  const date = new Date(now);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - months, date.getUTCDate());
}

/**
 * Enforces `store.retention`: deletes events, hourly rollups and egress-log records older than
 * `months` months now, then once a day. Returns a function that stops the timer. Failures are
 * reported (and tried again the next day), never thrown.
 */
export function enforceRetention(
  store: Pick<StoreMaintenance, 'purgeBefore'>,
  months: number,
  log: (line: string) => void,
  now: () => number = Date.now,
): { stop: () => void; done: Promise<void> } {
  const run = async () => {
    try {
      const cutoff = retentionCutoff(months, now());
      const purged = await store.purgeBefore(cutoff);
      if (purged.events + purged.hourly + purged.egress > 0)
        log(
          `retention: deleted ${purged.events} events, ${purged.hourly} hourly rows and ${purged.egress} egress records older than ${new Date(cutoff).toISOString().slice(0, 10)} (store.retention: ${months} months)`,
        );
    } catch (error) {
      log(`retention_failed: ${errorLine(error)}; tried again tomorrow`);
    }
  };
  const done = run();
  const timer = setInterval(() => void run(), DAY_MS);
  timer.unref();
  return { stop: () => clearInterval(timer), done };
}
