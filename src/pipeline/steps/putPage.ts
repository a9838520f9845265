import { sitePolicy } from '../../privacy/policy.js';
import { storedQuery } from '../../privacy/query.js';
import { drop, ok, type StepResult } from '../result.js';
import type { WorkingEvent } from '../event.js';

const MAX_PATH = 1024;
const MAX_TITLE = 300;

const CACHE_LIMIT = 10_000;
/** Stored paths by URL, per query rule (pages repeat: the URL is parsed once); bounded, in memory only. */
const paths = new WeakMap<object, Map<string, string | null>>();
/** The cache key of a named rule (an `{allow}` rule is its own key). */
const RULE_KEYS: Record<string, object> = { keep: {}, 'known-trackers': {}, strip: {} };

/** The stored path of `location` under `rule`, or null when it is not an absolute http(s) URL. */
function storedPath(location: string, rule: ReturnType<typeof sitePolicy>['query']): string | null {
  const key = typeof rule === 'string' ? (RULE_KEYS[rule] ?? RULE_KEYS.strip!) : rule;
  let cache = paths.get(key);
  if (!cache) paths.set(key, (cache = new Map<string, string | null>()));
  const cached = cache.get(location);
  if (cached !== undefined) return cached;
  let path: string | null = null;
  try {
    const url = new URL(location);
    if (url.protocol === 'http:' || url.protocol === 'https:')
      path = `${url.pathname}${storedQuery(url, rule)}`.slice(0, MAX_PATH);
  } catch {
    path = null;
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(location, path);
  return path;
}

/**
 * Keeps the URL path — plus only the query parameters the site's `query: {allow}` names, never
 * any other query string or the fragment (invariant 1) — and a trimmed title.
 */
export function putPage(event: WorkingEvent): StepResult<WorkingEvent> {
  const path = storedPath(event.raw.url, sitePolicy(event.site).query);
  if (path === null) return drop('invalid', 'location is not an absolute http(s) URL');
  event.row.path = path;
  const title = event.raw.title?.replace(/\s+/g, ' ').trim();
  event.row.title = title ? title.slice(0, MAX_TITLE) : null;
  return ok(event);
}
