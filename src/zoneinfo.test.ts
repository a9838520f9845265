import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parsePosixTz, posixOffsetAt } from './posix-tz.js';
import { intlOffsetSeconds } from '../test/intl-reference.js';
import { HAVE_ZDUMP, zdumpOffsets } from '../test/zdump-reference.js';
import { zoneinfoDir } from './config/zoneinfo-dir.js';
import { parseTzif, zoneOffsetAt, zoneRules } from './zoneinfo.js';

// Zones with every kind of rule: half and quarter hours, southern summers, a negative daylight
// time (Dublin), two-hour daylight time (Troll), 30-minute daylight time (Lord Howe), zones whose
// rules changed recently, one with no daylight time, and fixed offsets.
const ZONES = [
  'Europe/Paris',
  'Europe/London',
  'Europe/Dublin',
  'Europe/Lisbon',
  'Europe/Moscow',
  'Europe/Kyiv',
  'America/New_York',
  'America/Sao_Paulo',
  'America/Santiago',
  'America/St_Johns',
  'America/Nuuk',
  'America/Argentina/Buenos_Aires',
  'Australia/Sydney',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'Pacific/Apia',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Asia/Tehran',
  'Africa/Casablanca',
  'Antarctica/Troll',
  'Etc/GMT+5',
  'UTC',
];

const haveZoneinfo = existsSync(join(zoneinfoDir(), 'Europe/Paris'));
const FROM = Date.UTC(1975, 0, 1);
const TO = Date.UTC(2060, 0, 1);

describe.skipIf(!haveZoneinfo || !HAVE_ZDUMP)(
  `offsets from the system's zone files agree with the system's zdump (${zoneinfoDir()}: ${haveZoneinfo ? 'present' : 'absent — apt-get install tzdata'}; zdump: ${HAVE_ZDUMP ? 'present' : 'absent'})`,
  () => {
    it.each(ZONES)('%s, every 27 h 21 min 40 s from 1975 to 2060 and around each transition', (zone) => {
      const rules = zoneRules(zone)!;
      expect(rules, zone).not.toBeNull();
      // The same files read by glibc; a zone with no transition since 1900 (a fixed offset) by
      // Intl, whose data cannot differ there.
      const reference = zdumpOffsets(zone, 1900, 2060) ?? ((ms: number) => intlOffsetSeconds(ms, zone));
      const wrong: string[] = [];
      const check = (ms: number) => {
        const ours = zoneOffsetAt(rules, Math.floor(ms / 1000));
        const theirs = reference(ms);
        if (ours !== theirs && wrong.length < 5)
          wrong.push(`${new Date(ms).toISOString()}: ${ours} ≠ ${theirs}`);
      };
      for (let ms = FROM; ms < TO; ms += 98_500_000) check(ms);
      for (const t of rules.transitions) {
        if (t * 1000 < FROM || t * 1000 >= TO) continue;
        check(t * 1000 - 1000);
        check(t * 1000);
      }
      expect(wrong).toEqual([]);
    });
  },
);

describe('POSIX TZ rules (a zone file footer)', () => {
  it('reads names, offsets, rules and times of day', () => {
    expect(parsePosixTz('CET-1CEST,M3.5.0,M10.5.0/3')).toEqual({
      std: 3600,
      dst: {
        offset: 7200,
        start: { kind: 'M', month: 3, week: 5, day: 0, time: 7200 },
        end: { kind: 'M', month: 10, week: 5, day: 0, time: 10800 },
      },
    });
    expect(parsePosixTz('<+0545>-5:45')).toEqual({ std: 20_700 });
    expect(parsePosixTz('<-03>3<-02>,M3.5.0/-2,M10.5.0/-1')?.dst?.start.time).toBe(-7200);
    expect(parsePosixTz('<+11>-11<+12>,M10.1.0,M4.1.0/3')?.dst?.offset).toBe(43_200);
    expect(parsePosixTz('EST5EDT4,J60/2,300/2')?.dst?.end).toMatchObject({ kind: 'n', day: 300 });
  });

  it('refuses what it cannot read, so that Intl answers instead', () => {
    for (const text of [
      '',
      'CET',
      'C-1',
      'CET-1CEST',
      'CET-1CEST,M3.5.0',
      'CET-1CEST,M13.5.0,M10.5.0',
      'CET-1x',
    ])
      expect(parsePosixTz(text), text).toBeNull();
  });

  it('switches at the local times it names: Paris in 2070, Sydney across a new year', () => {
    const paris = parsePosixTz('CET-1CEST,M3.5.0,M10.5.0/3')!;
    // The last Sunday of March 2070 is the 30th; of October, the 26th.
    expect(posixOffsetAt(paris, Date.UTC(2070, 2, 30, 0, 59, 59) / 1000)).toBe(3600);
    expect(posixOffsetAt(paris, Date.UTC(2070, 2, 30, 1, 0, 0) / 1000)).toBe(7200);
    expect(posixOffsetAt(paris, Date.UTC(2070, 9, 26, 0, 59, 59) / 1000)).toBe(7200);
    expect(posixOffsetAt(paris, Date.UTC(2070, 9, 26, 1, 0, 0) / 1000)).toBe(3600);
    const sydney = parsePosixTz('AEST-10AEDT,M10.1.0,M4.1.0/3')!;
    expect(posixOffsetAt(sydney, Date.UTC(2069, 11, 31, 14, 0) / 1000)).toBe(39_600);
    expect(posixOffsetAt(sydney, Date.UTC(2070, 6, 1) / 1000)).toBe(36_000);
    // Dublin: winter is its daylight time, one hour behind its standard time.
    const dublin = parsePosixTz('IST-1GMT0,M10.5.0,M3.5.0/1')!;
    expect(posixOffsetAt(dublin, Date.UTC(2070, 0, 15) / 1000)).toBe(0);
    expect(posixOffsetAt(dublin, Date.UTC(2070, 6, 15) / 1000)).toBe(3600);
  });

  it('counts J days without February 29 and n days with it', () => {
    const j = parsePosixTz('AAA0BBB,J60/0,J300/0')!;
    const n = parsePosixTz('AAA0BBB,59/0,300/0')!;
    // 2072 is a leap year: J60 is 1 March, day 59 (from 0) is 29 February.
    expect(posixOffsetAt(j, Date.UTC(2072, 1, 29, 12) / 1000)).toBe(0);
    expect(posixOffsetAt(j, Date.UTC(2072, 2, 1, 0) / 1000)).toBe(3600);
    expect(posixOffsetAt(n, Date.UTC(2072, 1, 29, 0) / 1000)).toBe(3600);
    expect(posixOffsetAt(n, Date.UTC(2072, 1, 28, 23) / 1000)).toBe(0);
  });
});

describe('TZif files', () => {
  it.skipIf(!haveZoneinfo)('refuses a truncated file, a leap-second file and what is not TZif', () => {
    const paris = readFileSync(join(zoneinfoDir(), 'Europe/Paris'));
    expect(parseTzif(paris)).not.toBeNull();
    expect(parseTzif(paris.subarray(0, 200))).toBeNull();
    expect(parseTzif(Buffer.from('Europe/Paris\n'))).toBeNull();
    const right = join(zoneinfoDir(), 'right/Europe/Paris');
    if (existsSync(right)) expect(parseTzif(readFileSync(right))).toBeNull();
  });

  it('has no rules for names that are not zone names or have no file', () => {
    for (const name of ['../../etc/passwd', 'Europe/../../etc/passwd', '/etc/passwd', 'Nowhere/Atlantis', ''])
      expect(zoneRules(name), name).toBeNull();
  });
});

describe('time zones without ICU', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it.skipIf(!haveZoneinfo)(
    'local times and zone checks of zones with a file never make an Intl object',
    async () => {
      const made = vi.spyOn(Intl, 'DateTimeFormat');
      const time = await import('./time.js');
      const { isTimeZone } = await import('./config/checks.js');
      expect(isTimeZone('America/Sao_Paulo')).toBe(true);
      expect(time.formatLocal(Date.UTC(2026, 9, 25, 1, 0), 'Europe/Paris')).toBe('2026-10-25T02:00:00+01:00');
      expect(time.offsetSpans(Date.UTC(2026, 2, 1), Date.UTC(2026, 3, 1), 'Europe/Paris')).toHaveLength(2);
      expect(made).not.toHaveBeenCalled();
    },
  );

  it('falls back to Intl, with the same answers, where the system has no zone files', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'balise-no-zoneinfo-'));
    try {
      vi.stubEnv('TZDIR', empty);
      vi.resetModules();
      const time = await import('./time.js');
      const { isTimeZone } = await import('./config/checks.js');
      expect(isTimeZone('Europe/Paris')).toBe(true);
      expect(isTimeZone('Europe/Atlantis')).toBe(false);
      expect(time.formatLocal(Date.UTC(2026, 9, 25, 0, 0), 'Europe/Paris')).toBe('2026-10-25T02:00:00+02:00');
      expect(time.formatLocal(Date.UTC(2026, 9, 25, 1, 0), 'Europe/Paris')).toBe('2026-10-25T02:00:00+01:00');
      expect(time.offsetMinutes(Date.UTC(2026, 0, 1), 'Asia/Kathmandu')).toBe(345);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
