import { Memo } from '../../memo.js';
import { sitePolicy, type Policy } from '../../privacy/policy.js';
import { storedQuery } from '../../privacy/query.js';
import { drop, set, type Step } from '../step.js';

const MAX_PATH = 1024;
const MAX_TITLE = 300;

/** Stored paths by URL, per site policy (pages repeat: each URL is parsed once); bounded, in memory only. */
const paths = new WeakMap<Policy, Memo<string | null>>();

/** The stored path of `location` under the policy's query rule, or null when it is not an absolute http(s) URL. */
function storedPath(location: string, policy: Policy): string | null {
  let memo = paths.get(policy);
  if (!memo) paths.set(policy, (memo = new Memo<string | null>(10_000)));
  return memo.get(location, () => {
    try {
      const url = new URL(location);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
      return `${url.pathname}${storedQuery(url, policy.query)}`.slice(0, MAX_PATH);
    } catch {
      return null;
    }
  });
}

/**
 * Keeps the URL path — plus only the query parameters the site's `query: {allow}` names, never
 * any other query string or the fragment (invariant 1) — and a trimmed title.
 */
export const putPage: Step = {
  name: 'putPage',
  reads: ['url', 'title'],
  skip: ['dns'],
  run({ raw, site }) {
    const path = storedPath(raw.url, sitePolicy(site));
    if (path === null) return drop('invalid', 'location is not an absolute http(s) URL');
    const title = raw.title?.replace(/\s+/g, ' ').trim();
    return set({ path, title: title ? title.slice(0, MAX_TITLE) : null });
  },
};
