import type { TrackerList } from './trackers.js';

/** The `query` switch (docs/privacy.md). */
export type QueryRule = 'keep' | 'known-trackers' | 'strip' | { allow: readonly string[] };

/**
 * Applies the `query` switch to an absolute URL and always drops the fragment:
 * `strip` → no query; `known-trackers` → without tracker parameters; `allow` → only the named
 * parameters; `keep` → unchanged query. Returns null for anything that is not an http(s) URL.
 */
export function cleanUrl(input: string, rule: QueryRule, trackers: TrackerList): string | null {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  url.hash = '';
  if (rule === 'strip') url.search = '';
  else if (rule === 'known-trackers') {
    for (const name of [...url.searchParams.keys()])
      if (trackers.isTracker(name, input)) url.searchParams.delete(name);
  } else if (rule !== 'keep') {
    const allowed = new Set(rule.allow);
    for (const name of [...url.searchParams.keys()]) if (!allowed.has(name)) url.searchParams.delete(name);
  }
  return url.toString();
}

/** The query string kept for storage: only allow-listed parameters ever (invariant 1). */
export function storedQuery(url: URL, rule: QueryRule): string {
  if (typeof rule !== 'object' || url.search === '') return '';
  const kept = new URLSearchParams();
  for (const [name, value] of url.searchParams) if (rule.allow.includes(name)) kept.append(name, value);
  const text = kept.toString();
  return text ? `?${text}` : '';
}
