import { sitePolicy } from '../../privacy/policy.js';
import { storedQuery } from '../../privacy/query.js';
import { drop, ok, type StepResult } from '../result.js';
import type { WorkingEvent } from '../event.js';

const MAX_PATH = 1024;
const MAX_TITLE = 300;

/**
 * Keeps the URL path — plus only the query parameters the site's `query: {allow}` names, never
 * any other query string or the fragment (invariant 1) — and a trimmed title.
 */
export function putPage(event: WorkingEvent): StepResult<WorkingEvent> {
  let url: URL;
  try {
    url = new URL(event.raw.url);
  } catch {
    return drop('invalid', 'location is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return drop('invalid', 'location must be http(s)');
  event.row.path = `${url.pathname}${storedQuery(url, sitePolicy(event.site).query)}`.slice(0, MAX_PATH);
  const title = event.raw.title?.replace(/\s+/g, ' ').trim();
  event.row.title = title ? title.slice(0, MAX_TITLE) : null;
  return ok(event);
}
