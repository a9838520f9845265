import { createHmac } from 'node:crypto';
import { hashVisitor, localDay, visitorKey, type VisitorKey } from '../privacy/visitor-hash.js';

const MAX_CACHED = 100_000;

/**
 * Visitor hashes for an import: one salt per local day, HMAC-SHA256(secret, day) under a random
 * secret made for this import, shared by its worker threads (so a visitor hashes alike in every
 * chunk) and never stored — once the import ends, its hashes cannot be recomputed, and an import
 * never creates or deletes the live gateway's salts. Repeated (IP, UA) pairs of a day are cached.
 */
export class ImportHasher {
  private readonly salts = new Map<string, VisitorKey>();
  /** day → site → ip → user agent → hash (days and sites are few, and their strings reused). */
  private cache = new Map<string, Map<string, Map<string, Map<string, string>>>>();
  private cached = 0;
  private run = { site: '', day: '', ip: '', userAgent: '', hash: '' };
  /**
   * One string object per distinct IP and User-Agent among the cached keys: each new key is cut
   * from its log line and would keep that whole line alive in the cache (the engine shares the
   * line's memory); the first copy seen is kept for all the days it appears on.
   */
  private readonly canonical = new Map<string, string>();

  constructor(private readonly secret: Uint8Array) {}

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

  private intern(value: string): string {
    const known = this.canonical.get(value);
    if (known !== undefined) return known;
    this.canonical.set(value, value);
    return value;
  }

  private lookup(site: string, day: string, ip: string, userAgent: string): string {
    let bySite = this.cache.get(day);
    if (!bySite) this.cache.set(day, (bySite = new Map<string, Map<string, Map<string, string>>>()));
    let byIp = bySite.get(site);
    if (!byIp) bySite.set(site, (byIp = new Map<string, Map<string, string>>()));
    let byUa = byIp.get(ip);
    if (!byUa) byIp.set(this.intern(ip), (byUa = new Map<string, string>()));
    let hash = byUa.get(userAgent);
    if (hash === undefined) {
      let key = this.salts.get(day);
      if (!key)
        this.salts.set(day, (key = visitorKey(createHmac('sha256', this.secret).update(day).digest())));
      hash = hashVisitor(key, site, ip, userAgent);
      if (++this.cached > MAX_CACHED) {
        this.cache = new Map();
        this.canonical.clear();
        this.cached = 0;
      }
      byUa.set(this.intern(userAgent), hash);
    }
    return hash;
  }
}
