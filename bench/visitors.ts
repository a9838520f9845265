// The visitors of a bench's load: one browser's headers, and one public address each (never
// contacted; the gateway only reads it from X-Forwarded-For), so the visitor hash, geolocation
// and the tools' client ids vary as on a real site.

/** The User-Agent every bench request carries. */
export const BENCH_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.207 Safari/537.36';

/** The headers of a collect request from the bench's browser, on the bench's site. */
export function browserHeaders(): Record<string, string> {
  return { 'content-type': 'text/plain;charset=UTF-8', host: 'www.example.fr', 'user-agent': BENCH_UA };
}

/** The address of visitor `n` (0 ≤ n < 2^24): 81.0.0.0/8, a French operator's range. */
export function visitorAddress(n: number): string {
  return `81.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

/** The pageview the collect benches send (a browser's event as the client script posts it). */
export const BENCH_PAGEVIEW = JSON.stringify({
  eventType: 'pageview',
  location: 'https://www.example.fr/politique/article-12?utm_source=newsletter',
  title: 'Article 12 — politique',
  referer: 'https://www.google.com/',
  timestamp: Date.now(),
  offset: -60,
  language: 'fr-FR',
  screenWidth: 1920,
  screenHeight: 1080,
  viewportWidth: 1280,
  viewportHeight: 800,
});
