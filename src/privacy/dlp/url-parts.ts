import { scanText } from './scan.js';

/**
 * Runs `scan` over each part of a URL a person could have written something into — every path
 * segment, every query key and value, the fragment — each decoded first, so that a finding masks
 * only its own part (an e-mail in `?email=` masks that value, not the page's path). A part the
 * scan changed is written back percent-encoded; the URL is left as it was when nothing changed.
 */
export function scanUrlParts(url: URL, scan: (text: string) => string): void {
  // Nearly every URL holds nothing: one look at it whole (remembered for repeated URLs) first.
  if (scanText(url.pathname + url.search + url.hash, 'report').found.length === 0) return;
  const segments = url.pathname.split('/');
  let pathChanged = false;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === '') continue;
    const decoded = decode(segment);
    const scanned = scan(decoded);
    if (scanned !== decoded) {
      segments[i] = encodeSegment(scanned);
      pathChanged = true;
    }
  }
  if (pathChanged) url.pathname = segments.join('/');
  if (url.search) {
    const params = new URLSearchParams();
    let queryChanged = false;
    for (const [key, value] of url.searchParams) {
      const k = scan(key);
      const v = scan(value);
      if (k !== key || v !== value) queryChanged = true;
      params.append(k, v);
    }
    if (queryChanged) url.search = params.toString();
  }
  if (url.hash) {
    const fragment = decode(url.hash.slice(1));
    const scanned = scan(fragment);
    if (scanned !== fragment) url.hash = encodeURIComponent(scanned);
  }
}

/**
 * `scanUrlParts` for a URL as text: an absolute URL (a referrer, a URL property) or a stored path
 * with its kept query (`/a/b?x=1`). The text comes back unchanged when nothing was found; text
 * that is not a URL is scanned whole.
 */
export function scanUrlText(text: string, scan: (text: string) => string): string {
  if (text === '' || scanText(text, 'report').found.length === 0) return text;
  let url: URL;
  try {
    url = new URL(text, 'http://path.invalid');
  } catch {
    return scan(text);
  }
  const absolute = /^[a-z][a-z0-9+.-]*:/i.test(text);
  const before = absolute ? url.href : url.pathname + url.search + url.hash;
  scanUrlParts(url, scan);
  const after = absolute ? url.href : url.pathname + url.search + url.hash;
  return after === before ? text : after;
}

/** A path segment percent-encoded, the DLP's `[redacted:kind]` marks kept readable. */
function encodeSegment(text: string): string {
  return encodeURIComponent(text).replace(/%5B/g, '[').replace(/%5D/g, ']').replace(/%3A/g, ':');
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
