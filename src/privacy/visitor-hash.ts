import { createHmac } from 'node:crypto';
import type { Store } from '../store/store.js';

const dayFormats = new Map<string, Intl.DateTimeFormat>();
const lastDay = new Map<string, { bucket: number; day: string }>();
const QUARTER_HOUR = 15 * 60 * 1000;

/**
 * The calendar day (YYYY-MM-DD) of instant `ts` in time zone `timeZone`. Every UTC offset in use
 * is a multiple of 15 minutes, so the answer is cached per zone for the current quarter hour.
 */
export function localDay(ts: number, timeZone: string): string {
  const bucket = Math.floor(ts / QUARTER_HOUR);
  const cached = lastDay.get(timeZone);
  if (cached?.bucket === bucket) return cached.day;
  let format = dayFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    dayFormats.set(timeZone, format);
  }
  const day = format.format(ts);
  lastDay.set(timeZone, { bucket, day });
  return day;
}

/** The day before `day` (YYYY-MM-DD). */
export function previousDay(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

/** Keyed hash of (IP, UA, site) under `salt`, as an unsigned 64-bit decimal string. */
export function hashVisitor(salt: Buffer, site: string, ip: string, userAgent: string): string {
  const digest = createHmac('sha256', salt).update(`${site}\n${ip}\n${userAgent}`).digest();
  return digest.readBigUInt64BE(0).toString();
}

/**
 * Visitor hashes with a random 32-byte salt per local day, kept in the store so every gateway on
 * it agrees; only the current and previous days' salts exist (older ones are deleted, so past
 * hashes can never be recomputed). A salt is random, never derived from the date.
 */
export class VisitorHasher {
  private readonly salts = new Map<string, Buffer>();
  private readonly pending = new Map<string, Promise<Buffer>>();

  constructor(private readonly store: Store) {}

  /** The hash for a visitor of `site` at instant `ts`, using the salt of that day in `timeZone`. */
  hash(site: string, timeZone: string, ip: string, userAgent: string, ts: number): string | Promise<string> {
    const day = localDay(ts, timeZone);
    const salt = this.salts.get(day);
    if (salt) return hashVisitor(salt, site, ip, userAgent);
    return this.saltFor(day).then((s) => hashVisitor(s, site, ip, userAgent));
  }

  private saltFor(day: string): Promise<Buffer> {
    let promise = this.pending.get(day);
    if (!promise) {
      promise = this.store.ensureSalt(day, previousDay(day)).then((salt) => {
        this.salts.set(day, salt);
        for (const known of this.salts.keys()) if (known < previousDay(day)) this.salts.delete(known);
        return salt;
      });
      promise.finally(() => this.pending.delete(day)).catch(() => undefined);
      this.pending.set(day, promise);
    }
    return promise;
  }
}
