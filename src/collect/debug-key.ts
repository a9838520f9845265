import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { SiteConfig } from '../config/schema.js';
import { cookie } from './consent.js';

/**
 * True when the request carries the site's debug key: in the `X-Balise-Debug` header the script
 * adds from its `balise_debug` cookie (set by `balise.debug(key)`), or in that cookie itself. Never
 * from a URL: a key there would end up in logs and referrers.
 */
export function debugging(site: SiteConfig, headers: IncomingHttpHeaders): boolean {
  if (!site.debugKey) return false;
  const header = headers['x-balise-debug'];
  const raw = typeof header === 'string' ? header : cookie(headers.cookie, 'balise_debug');
  if (raw === null) return false;
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    return false;
  }
  const given = Buffer.from(value);
  const expected = Buffer.from(site.debugKey);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
