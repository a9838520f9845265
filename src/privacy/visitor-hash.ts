import { hash } from 'node:crypto';
import { wallClockKey } from '../time.js';

const lastDay = new Map<string, { bucket: number; day: string }>();
const QUARTER_HOUR = 15 * 60 * 1000;

/**
 * Where the day's salt comes from (the store, shared by every gateway on it): the salt for `day`,
 * made once by whoever asks first; salts of days before `keepFrom` are deleted.
 */
export interface SaltSource {
  ensureSalt(day: string, keepFrom: string): Promise<Buffer>;
}

/**
 * The calendar day (YYYY-MM-DD) of instant `ts` in time zone `timeZone`. Every UTC offset in use
 * is a multiple of 15 minutes, so the answer is cached per zone for the current quarter hour.
 */
export function localDay(ts: number, timeZone: string): string {
  const bucket = Math.floor(ts / QUARTER_HOUR);
  const cached = lastDay.get(timeZone);
  if (cached?.bucket === bucket) return cached.day;
  const day = wallClockKey(ts, timeZone).slice(0, 10);
  lastDay.set(timeZone, { bucket, day });
  return day;
}

/** The day before `day` (YYYY-MM-DD). */
export function previousDay(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

/** A salt prepared for hashing: the HMAC inner and outer keys, hex-encoded. */
export interface VisitorKey {
  inner: string;
  outer: string;
}

/** Derives the nested-hash keys from a 32-byte salt (salt XOR the HMAC ipad / opad bytes). */
export function visitorKey(salt: Buffer): VisitorKey {
  const xor = (pad: number) => Buffer.from(salt.map((b) => b ^ pad)).toString('hex');
  return { inner: xor(0x36), outer: xor(0x5c) };
}

/**
 * Keyed hash of (site, IP, UA): the HMAC construction SHA-256(outer ‖ SHA-256(inner ‖ message))
 * with hex-encoded keys, cut to its first 64 bits (an unsigned decimal string). Node's one-shot
 * `crypto.hash` makes it ~5× cheaper than `createHmac` on the hot path (bench/collect).
 */
export function hashVisitor(key: VisitorKey, site: string, ip: string, userAgent: string): string {
  const inner = hash('sha256', `${key.inner}${site}\n${ip}\n${userAgent}`, 'hex');
  const outer = hash('sha256', `${key.outer}${inner}`, 'hex');
  return BigInt(`0x${outer.slice(0, 16)}`).toString();
}

/**
 * Visitor hashes with a random 32-byte salt per local day, kept in the store so every gateway on
 * it agrees; only the current and previous days' salts exist (older ones are deleted, so past
 * hashes can never be recomputed). A salt is random, never derived from the date.
 */
export class VisitorHasher {
  private readonly salts = new Map<string, VisitorKey>();
  private readonly pending = new Map<string, Promise<VisitorKey>>();

  constructor(private readonly store: SaltSource) {}

  /** The hash for a visitor of `site` at instant `ts`, using the salt of that day in `timeZone`. */
  hash(site: string, timeZone: string, ip: string, userAgent: string, ts: number): string | Promise<string> {
    const day = localDay(ts, timeZone);
    const salt = this.salts.get(day);
    if (salt) return hashVisitor(salt, site, ip, userAgent);
    return this.saltFor(day).then((s) => hashVisitor(s, site, ip, userAgent));
  }

  private saltFor(day: string): Promise<VisitorKey> {
    let promise = this.pending.get(day);
    if (!promise) {
      promise = this.store.ensureSalt(day, previousDay(day)).then((salt) => {
        const key = visitorKey(salt);
        this.salts.set(day, key);
        for (const known of this.salts.keys()) if (known < previousDay(day)) this.salts.delete(known);
        return key;
      });
      promise.finally(() => this.pending.delete(day)).catch(() => undefined);
      this.pending.set(day, promise);
    }
    return promise;
  }
}
