import { classifyReferrer } from '../../enrich/referrer.js';
import { sitePolicy } from '../../privacy/policy.js';
import { domainsOfSite, isInternalHost } from '../../privacy/referrer.js';
import { ok, type StepResult } from '../result.js';
import type { WorkingEvent } from '../event.js';

/**
 * Keeps an external referrer's host and class only (never its path or query). A referrer with
 * the same registrable domain as one of the site's hosts is internal and leaves both empty, as
 * do unparsable referrers and `referrer: remove`.
 */
export function putReferrer(event: WorkingEvent): StepResult<WorkingEvent> {
  const referrer = event.raw.referrer;
  if (!referrer || sitePolicy(event.site).referrer === 'remove') return ok(event);
  let host: string;
  try {
    const url = new URL(referrer);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return ok(event);
    host = url.hostname.toLowerCase();
  } catch {
    return ok(event);
  }
  if (isInternalHost(host, domainsOfSite(event.site))) return ok(event);
  event.row.referrerHost = host;
  event.row.referrerClass = classifyReferrer(host);
  return ok(event);
}
