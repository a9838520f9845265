import { classifyReferrer } from '../../enrich/referrer.js';
import { ok, type StepResult } from '../result.js';
import type { WorkingEvent } from '../event.js';

/**
 * Keeps an external referrer's host and class only (never its path or query); internal
 * navigation and unparsable referrers leave both empty.
 */
export function putReferrer(event: WorkingEvent): StepResult<WorkingEvent> {
  const referrer = event.raw.referrer;
  if (!referrer) return ok(event);
  let host: string;
  try {
    const url = new URL(referrer);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return ok(event);
    host = url.hostname.toLowerCase();
  } catch {
    return ok(event);
  }
  const site = event.site;
  if (host === site.host || site.aliases.includes(host)) return ok(event);
  event.row.referrerHost = host;
  event.row.referrerClass = classifyReferrer(host);
  return ok(event);
}
