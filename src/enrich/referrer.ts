/** Referrer classes kept by the analytics (docs/privacy.md, `referrer`). */
export type ReferrerClass = 'search' | 'social' | 'news' | 'email' | 'other';

// Registrable-domain stems per class; a first built-in list until the maintained list lands.
const CLASSES: [ReferrerClass, RegExp][] = [
  [
    'search',
    /(^|\.)(google|bing|duckduckgo|qwant|ecosia|yahoo|yandex|baidu|startpage|brave|lilo|search\.lilo)\.[a-z.]+$/,
  ],
  [
    'social',
    /(^|\.)(facebook|fb|instagram|t|twitter|x|linkedin|lnkd|reddit|pinterest|tiktok|youtube|mastodon|bsky|threads|snapchat|whatsapp|telegram)\.[a-z.]+$/,
  ],
  [
    'email',
    /(^|\.)(mail\.google|outlook\.live|mail\.yahoo|webmail\.[a-z0-9-]+|mail\.[a-z0-9-]+|laposte|orange)\.[a-z.]+$/,
  ],
  [
    'news',
    /(^|\.)(news\.google|news|lemonde|lefigaro|liberation|leparisien|francetvinfo|bfmtv|20minutes|ouest-france|bbc|nytimes|theguardian|reuters|apnews)\.[a-z.]+$|^news\./,
  ],
];

/** Classifies a referrer host into search, social, news, email or other. */
export function classifyReferrer(host: string): ReferrerClass {
  const h = host.toLowerCase();
  if (/^(mail|webmail)\./.test(h)) return 'email';
  for (const [cls, pattern] of CLASSES) if (pattern.test(h)) return cls;
  return 'other';
}
