/**
 * Time-zone offsets read from the system's zone files (TZif, RFC 8536: `/usr/share/zoneinfo`, or
 * `TZDIR`), so that finding a local hour does not load ICU's data: Node's first locale-aware
 * `Intl` object maps ≈ 6.4 MB of it into the process, and ≈ 2.5 MB of heap (docs/limits.md).
 * A zone without a readable file is answered by `Intl` as before (time.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { zoneinfoDir } from './config/zoneinfo-dir.js';
import { parsePosixTz, posixOffsetAt, type PosixRule } from './posix-tz.js';

/** A zone's transitions (seconds since the epoch) and the offset (seconds east of UTC) from each on. */
export interface ZoneRules {
  transitions: Float64Array;
  offsets: Int32Array;
  /** The offset before the first transition. */
  initial: number;
  /** The rule after the last transition (the file's footer), when it has one. */
  tail: PosixRule | null;
}

// An IANA name: letters, digits, `_`, `+`, `-`, a few parts — never a path out of the folder.
const ZONE_NAME = /^[A-Za-z0-9_+-]+(?:\/[A-Za-z0-9_+-]+){0,3}$/;
const HEADER = 44;

/** Parses a TZif file; null when it is not one this reader takes (leap seconds, a bad size). */
export function parseTzif(bytes: Buffer): ZoneRules | null {
  if (bytes.length < HEADER || bytes.toString('latin1', 0, 4) !== 'TZif') return null;
  const version = bytes[4]!;
  const counts = (at: number) => {
    const n = (i: number) => bytes.readUInt32BE(at + 20 + i * 4);
    return { isut: n(0), isstd: n(1), leap: n(2), time: n(3), type: n(4), char: n(5) };
  };
  const v1 = counts(0);
  // A version 2+ file repeats its data with 64-bit times after the 32-bit block, then a footer.
  const wide = version >= 0x32;
  let at = HEADER;
  let c = v1;
  const size = (k: typeof v1, timeBytes: number) =>
    k.time * timeBytes + k.time + k.type * 6 + k.char + k.leap * (timeBytes + 4) + k.isstd + k.isut;
  if (wide) {
    at = HEADER + size(v1, 4);
    if (bytes.length < at + HEADER || bytes.toString('latin1', at, at + 4) !== 'TZif') return null;
    c = counts(at);
    at += HEADER;
  }
  const timeBytes = wide ? 8 : 4;
  if (c.leap > 0 || c.type === 0 || bytes.length < at + size(c, timeBytes)) return null;
  const transitions = new Float64Array(c.time);
  for (let i = 0; i < c.time; i++)
    transitions[i] = wide ? Number(bytes.readBigInt64BE(at + i * 8)) : bytes.readInt32BE(at + i * 4);
  const indices = at + c.time * timeBytes;
  const types = indices + c.time;
  const typeOffset = (t: number) => {
    if (t >= c.type) throw new RangeError('TZif type index out of range');
    return bytes.readInt32BE(types + t * 6);
  };
  const offsets = new Int32Array(c.time);
  try {
    for (let i = 0; i < c.time; i++) offsets[i] = typeOffset(bytes[indices + i]!);
  } catch {
    return null;
  }
  let tail: PosixRule | null = null;
  if (wide) {
    const footer = bytes.toString('latin1', at + size(c, timeBytes)).split('\n')[1] ?? '';
    tail = footer === '' ? null : parsePosixTz(footer);
    if (footer !== '' && tail === null) return null;
  }
  return { transitions, offsets, initial: typeOffset(0), tail };
}

/** The offset (seconds east of UTC) `rules` give at `seconds` since the epoch. */
export function zoneOffsetAt(rules: ZoneRules, seconds: number): number {
  const { transitions, offsets } = rules;
  const n = transitions.length;
  if (n === 0 || seconds >= transitions[n - 1]!)
    return rules.tail ? posixOffsetAt(rules.tail, seconds) : n === 0 ? rules.initial : offsets[n - 1]!;
  if (seconds < transitions[0]!) return rules.initial;
  let low = 0;
  let high = n - 1;
  // The last transition at or before `seconds`.
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (transitions[middle]! <= seconds) low = middle;
    else high = middle - 1;
  }
  return offsets[low]!;
}

const zones = new Map<string, ZoneRules | null>();

/**
 * The rules of zone `name` from its file, read once; null when the name is not an IANA-style
 * name, there is no such file, or the file is not one `parseTzif` takes.
 */
export function zoneRules(name: string): ZoneRules | null {
  let rules = zones.get(name);
  if (rules === undefined) {
    rules = null;
    if (ZONE_NAME.test(name)) {
      try {
        rules = parseTzif(readFileSync(join(zoneinfoDir(), name)));
      } catch {
        rules = null;
      }
    }
    zones.set(name, rules);
  }
  return rules;
}
