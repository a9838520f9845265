import { randomBytes } from 'node:crypto';
import { hashVisitor, localDay, visitorKey, type VisitorKey } from '../privacy/visitor-hash.js';

const MAX_CACHED = 100_000;

/**
 * Visitor hashes for an import: one random salt per local day, held in memory for this import
 * only and never stored — past days' hashes cannot be recomputed afterwards, and an import never
 * creates or deletes the live gateway's salts. Repeated (IP, UA) pairs of a day are cached.
 */
export class ImportHasher {
  private readonly salts = new Map<string, VisitorKey>();
  /** day + site → ip → user agent → hash. */
  private cache = new Map<string, Map<string, Map<string, string>>>();
  private cached = 0;

  /** The hash of (site, ip, ua) on the local day of `ts`. */
  hash(site: string, timeZone: string, ip: string, userAgent: string, ts: number): string {
    const day = localDay(ts, timeZone);
    const daySite = `${day} ${site}`;
    let byIp = this.cache.get(daySite);
    if (!byIp) this.cache.set(daySite, (byIp = new Map<string, Map<string, string>>()));
    let byUa = byIp.get(ip);
    if (!byUa) byIp.set(ip, (byUa = new Map<string, string>()));
    let hash = byUa.get(userAgent);
    if (hash === undefined) {
      let key = this.salts.get(day);
      if (!key) this.salts.set(day, (key = visitorKey(randomBytes(32))));
      hash = hashVisitor(key, site, ip, userAgent);
      if (++this.cached > MAX_CACHED) {
        this.cache = new Map();
        this.cached = 0;
      }
      byUa.set(userAgent, hash);
    }
    return hash;
  }
}
