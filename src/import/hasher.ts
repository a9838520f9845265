import { createHmac } from 'node:crypto';
import { hashVisitor, localDay, visitorKey, type VisitorKey } from '../privacy/visitor-hash.js';

/**
 * Cached hashes of one day at most; past that, that day's cache starts again (≈ 250 bytes of a
 * worker's heap each: 20,000 a day held ≈ 10 MB per worker on a log of distinct visitors, whose
 * cache serves nothing; a visitor's requests — a page and its assets — come close together).
 */
const MAX_CACHED = 5_000;
/**
 * Days whose hashes are cached: a log comes in time order, give or take the lines of a day's
 * last seconds written after the next day's first; older days are dropped as new ones come.
 */
const CACHED_DAYS = 2;

/** Copies of IPs and User-Agents the caches hold (`ImportHasher.own`); past that many, they start again. */
const MAX_OWNED = 4 * MAX_CACHED;

/** One day's cached hashes: site → ip → user agent → hash. */
interface DayCache {
  bySite: Map<string, Map<string, Map<string, string>>>;
  count: number;
}

/**
 * Visitor hashes for an import: one salt per local day, HMAC-SHA256(secret, day) under a random
 * secret made for this import, shared by its worker threads (so a visitor hashes alike in every
 * chunk) and never stored — once the import ends, its hashes cannot be recomputed, and an import
 * never creates or deletes the live gateway's salts. Repeated (IP, UA) pairs of the latest days
 * are cached: a day's visitors do not come back on a later day with the same hash, so a day's
 * cache is dropped once two later days have come (it held ≈ 20 MB of a worker's heap until its
 * bound, in a million-line log, before).
 */
export class ImportHasher {
  private readonly salts = new Map<string, VisitorKey>();
  /** day → its cache, the latest CACHED_DAYS days seen, in the order they came. */
  private readonly days = new Map<string, DayCache>();
  private run = { site: '', day: '', ip: '', userAgent: '', hash: '' };
  /**
   * One copy of its own per IP and User-Agent in the caches, shared by the days (a log's visitors
   * come back on later days). A key is cut from its log line, and the engine shares the line's
   * memory: kept as it is, it kept its whole line alive, and every day's new keys moved that many
   * lines from young memory to old — a third of the bytes a worker promoted (BENCHMARKS.md).
   */
  private readonly owned = new Map<string, string>();

  constructor(private readonly secret: Uint8Array) {}

  /** How many hashes are cached now (all cached days together). */
  get cached(): number {
    let count = 0;
    for (const cache of this.days.values()) count += cache.count;
    return count;
  }

  /** How many copies of IPs and User-Agents it holds (`own`). */
  get copies(): number {
    return this.owned.size;
  }

  /** The hash of (site, ip, ua) on the local day of `ts`. */
  hash(site: string, timeZone: string, ip: string, userAgent: string, ts: number): string {
    const day = localDay(ts, timeZone);
    // A visitor's requests come in runs (a page, then its assets).
    const run = this.run;
    if (run.ip === ip && run.userAgent === userAgent && run.day === day && run.site === site) return run.hash;
    const hash = this.lookup(site, day, ip, userAgent);
    this.run = { site, day, ip, userAgent, hash };
    return hash;
  }

  private dayCache(day: string): DayCache {
    let cache = this.days.get(day);
    if (cache && cache.count < MAX_CACHED) return cache;
    this.days.delete(day);
    cache = { bySite: new Map(), count: 0 };
    this.days.set(day, cache);
    // The days first seen longest ago go (a Map keeps its keys in the order they were set).
    for (const old of this.days.keys()) {
      if (this.days.size <= CACHED_DAYS) break;
      this.days.delete(old);
    }
    return cache;
  }

  private lookup(site: string, day: string, ip: string, userAgent: string): string {
    const cache = this.dayCache(day);
    let byIp = cache.bySite.get(site);
    if (!byIp) cache.bySite.set(site, (byIp = new Map<string, Map<string, string>>()));
    let byUa = byIp.get(ip);
    if (!byUa) byIp.set(this.own(ip), (byUa = new Map<string, string>()));
    let hash = byUa.get(userAgent);
    if (hash === undefined) {
      let key = this.salts.get(day);
      if (!key)
        this.salts.set(day, (key = visitorKey(createHmac('sha256', this.secret).update(day).digest())));
      hash = hashVisitor(key, site, ip, userAgent);
      cache.count++;
      byUa.set(this.own(userAgent), hash);
    }
    return hash;
  }

  /**
   * This hasher's copy of `value`, made once: a string of the same text that is not part of a
   * log line (joined to a space and cut again, the engine copies its characters).
   */
  private own(value: string): string {
    const known = this.owned.get(value);
    if (known !== undefined) return known;
    if (this.owned.size >= MAX_OWNED) this.owned.clear();
    const copy = (' ' + value).slice(1);
    this.owned.set(copy, copy);
    return copy;
  }
}
