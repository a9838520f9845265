import type { EventRow } from '../store/row.js';
import { deterministicId } from '../store/ids.js';
import type { Store } from '../store/store.js';
import { localParts } from '../time.js';

/** A small deterministic PRNG (mulberry32) so seeded data is the same on every machine. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rand: () => number, items: readonly (readonly [T, number])[]): T {
  const total = items.reduce((n, [, w]) => n + w, 0);
  let r = rand() * total;
  for (const [item, weight] of items) {
    r -= weight;
    if (r <= 0) return item;
  }
  return items[items.length - 1]![0];
}

// French regions weighted roughly by population, plus a few neighbours.
const PLACES: readonly (readonly [[string, string | null], number])[] = [
  [['FR', 'FR-IDF'], 19],
  [['FR', 'FR-ARA'], 12],
  [['FR', 'FR-HDF'], 9],
  [['FR', 'FR-NAQ'], 9],
  [['FR', 'FR-OCC'], 9],
  [['FR', 'FR-GES'], 8],
  [['FR', 'FR-PAC'], 8],
  [['FR', 'FR-PDL'], 6],
  [['FR', 'FR-BRE'], 5],
  [['FR', 'FR-NOR'], 5],
  [['FR', 'FR-BFC'], 4],
  [['FR', 'FR-CVL'], 4],
  [['FR', 'FR-COR'], 1],
  [['BE', null], 3],
  [['CH', null], 2],
  [['CA', null], 2],
  [['US', null], 2],
  [['DE', null], 1],
];
type Weighted<T> = readonly (readonly [T, number])[];
const DESKTOP: Weighted<readonly [string, string]> = [
  [['Chrome', 'Windows'], 45],
  [['Edge', 'Windows'], 15],
  [['Firefox', 'Windows'], 10],
  [['Safari', 'Mac OS'], 15],
  [['Chrome', 'Mac OS'], 8],
  [['Firefox', 'Linux'], 7],
];
const MOBILE: Weighted<readonly [string, string]> = [
  [['Mobile Safari', 'iOS'], 45],
  [['Chrome', 'Android'], 45],
  [['Samsung Browser', 'Android'], 10],
];
const REFERRERS: Weighted<readonly [string | null, string | null]> = [
  [[null, null], 45],
  [['www.google.com', 'search'], 30],
  [['www.qwant.com', 'search'], 3],
  [['www.facebook.com', 'social'], 8],
  [['t.co', 'social'], 4],
  [['news.google.com', 'news'], 7],
  [['mail.google.com', 'email'], 3],
];
const SECTIONS = [
  'politique',
  'international',
  'economie',
  'sport',
  'culture',
  'sciences',
  'regions',
] as const;

/** A seeded site: host, how busy it is, and its hour-of-day profile (local time). */
export interface SeedSite {
  host: string;
  /** Pageviews in the busiest hour of an ordinary weekday. */
  peakPerHour: number;
  /** Multiplier per local hour 0..23. */
  profile: readonly number[];
}

/** Hour-of-day profiles: a news site peaks morning, lunch and evening; a TV site in prime time. */
export const PROFILES = {
  news: [
    0.15, 0.08, 0.05, 0.04, 0.05, 0.12, 0.35, 0.7, 0.9, 0.8, 0.7, 0.75, 0.9, 0.85, 0.7, 0.65, 0.65, 0.7, 0.8,
    0.85, 1, 0.9, 0.6, 0.3,
  ],
  tv: [
    0.2, 0.1, 0.05, 0.03, 0.03, 0.05, 0.12, 0.2, 0.25, 0.25, 0.3, 0.35, 0.45, 0.5, 0.4, 0.35, 0.35, 0.4, 0.5,
    0.7, 0.95, 1, 0.8, 0.45,
  ],
} as const;

function localHour(ts: number, timeZone: string): { hour: number; weekday: number } {
  const p = localParts(ts, timeZone);
  // Monday = 0 … Sunday = 6.
  return { hour: p.hour, weekday: (new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay() + 6) % 7 };
}

/** Generates the rows of one UTC hour for one site; deterministic for (site, hour). */
/** The local day of `ts` in `timeZone`, as days since 1970-01-01. */
function localDayNumber(ts: number, timeZone: string): number {
  const p = localParts(ts, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day) / 86_400_000;
}

export function seedHour(site: SeedSite, hourStart: number, timeZone: string, node: string): EventRow[] {
  const rand = random(hourStart / 3_600_000 + site.host.length * 7919 + site.host.charCodeAt(0));
  const { hour, weekday } = localHour(hourStart, timeZone);
  const weekend = weekday >= 5;
  let volume = site.peakPerHour * site.profile[hour]! * (weekend ? 0.8 : 1) * (0.9 + rand() * 0.2);
  // A night of big news every other week (fixed days, so re-seeding is stable): traffic ×4, mobile share up.
  const bigNight = Math.floor(hourStart / 86_400_000) % 14 === 3 && hour >= 20 && hour <= 23;
  if (bigNight) volume *= 4;
  const mobileShare = Math.min(
    0.85,
    (weekend ? 0.6 : 0.45) + (hour >= 19 || hour < 8 ? 0.12 : 0) + (bigNight ? 0.15 : 0),
  );
  const count = Math.round(volume);
  const visitors = Math.max(1, Math.round(count / 1.8));
  const rows: EventRow[] = [];
  for (let n = 0; n < count; n++) {
    const ts = hourStart + Math.floor(rand() * 3_600_000);
    const bot = rand() < 0.03;
    const mobile = !bot && rand() < mobileShare;
    const [browser, os]: readonly [string, string | null] = bot
      ? ['Googlebot', null]
      : pick(rand, mobile ? MOBILE : DESKTOP);
    const [country, region] = pick(rand, PLACES);
    const [referrerHost, referrerClass] = pick(rand, REFERRERS);
    const section = SECTIONS[Math.floor(rand() * SECTIONS.length)]!;
    const path = rand() < 0.25 ? '/' : `/${section}/article-${1 + Math.floor(rand() * 40)}`;
    rows.push({
      id: deterministicId(ts, `demo:${site.host}:${hourStart}:${n}`),
      ts,
      site: site.host,
      type: 'pageview',
      name: null,
      path,
      title: path === '/' ? 'Accueil' : `Article ${path.split('-').at(-1) ?? ''} — ${section}`,
      referrerHost,
      referrerClass,
      country,
      region,
      asn: null,
      deviceType: bot ? 'bot' : mobile ? (rand() < 0.1 ? 'tablet' : 'mobile') : 'desktop',
      browser,
      os,
      isBot: bot,
      // A new hash each local day, as the daily salt makes it (a visit never crosses midnight).
      visitorHash: String(Math.floor(rand() * visitors) + localDayNumber(hourStart, timeZone) * 1_000_003),
      sessionHash: null,
      node,
      status: null,
      bytes: null,
      source: 'demo',
      props: null,
      // Newsletter readers arrive with the newsletter's campaign; a few social visits are paid.
      utmSource: referrerClass === 'email' ? 'newsletter' : null,
      utmMedium: referrerClass === 'email' ? 'email' : null,
      utmCampaign: referrerClass === 'email' ? 'la-matinale' : null,
      utmTerm: null,
      utmContent: null,
      paid: referrerClass === 'social' && n % 5 === 0,
      screenClass: bot ? null : mobile ? 'mobile' : rand() < 0.5 ? 'laptop' : 'desktop',
    });
  }
  return rows;
}

/**
 * Seeds `days` days of realistic traffic up to now, hour by hour. Idempotent: ids are
 * deterministic, so running the demo again adds only what is missing.
 */
export async function seedDemo(
  store: Store,
  sites: readonly SeedSite[],
  options: {
    days: number;
    timeZone: string;
    node: string;
    now?: number;
    progress?: (done: number, total: number) => void;
  },
): Promise<number> {
  const now = options.now ?? Date.now();
  // Up to now: the current hour is seeded in part (rows before now), and a later run adds the
  // rest of it with the same deterministic ids, so nothing counts twice.
  const end = now - (now % 3_600_000) + 3_600_000;
  const start = end - 3_600_000 - options.days * 86_400_000;
  const total = (end - start) / 3_600_000;
  let inserted = 0;
  let batch: EventRow[] = [];
  for (let hour = start, done = 0; hour < end; hour += 3_600_000, done++) {
    for (const site of sites) {
      const rows = seedHour(site, hour, options.timeZone, options.node);
      batch.push(...(hour + 3_600_000 > now ? rows.filter((row) => row.ts < now) : rows));
    }
    if (batch.length >= 50_000 || hour + 3_600_000 >= end) {
      inserted += (await store.append(batch)).inserted;
      batch = [];
      options.progress?.(done + 1, total);
    }
  }
  return inserted;
}
