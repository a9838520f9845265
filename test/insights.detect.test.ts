import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { detectAttacks } from '../src/insights/detectors/attacks.js';
import { detectSeriesAnomalies } from '../src/insights/detectors/detectSeriesAnomalies.js';
import { detectOutages } from '../src/insights/detectors/outages.js';
import { detectShifts } from '../src/insights/detectors/shifts.js';
import { detectSpikes } from '../src/insights/detectors/spikes.js';
import { localToUtc, parseLocal } from '../src/time.js';
import type { Store } from '../src/store/store.js';
import { openTestStore, storeKinds } from './stores.js';
import { deterministicId } from '../src/store/ids.js';
import { blankRow, type EventRow } from '../src/store/row.js';
import { rowsAtLocal } from './fixtures.js';

const config = parseConfig(
  { sites: [{ host: 'a.example', group: 'news' }, { host: 'season.example' }, { host: 'ops.example' }] },
  { env: {} },
);
describe.each(storeKinds())('on %s', (kind) => {
  let store: Store;

  const at = (local: string, count: number, overrides: Partial<EventRow> = {}): EventRow[] =>
    rowsAtLocal(local, count, overrides);

  beforeAll(async () => {
    store = await openTestStore(kind);
    await store.append([
      // Sunday 5 July 2026 against Sunday 28 June: 20:00 +925%, 21:00 −60%, 22:00 small counts (ignored).
      ...at('2026-07-05T20:10', 205),
      ...at('2026-06-28T20:10', 20),
      ...at('2026-07-05T21:10', 40),
      ...at('2026-06-28T21:10', 100),
      ...at('2026-07-05T22:10', 4),
      ...at('2026-06-28T22:10', 1),
      ...at('2026-07-05T23:10', 55, { region: 'FR-GES' }),
      ...at('2026-06-28T23:10', 50, { region: 'FR-GES' }),
    ]);
    // Six regular weeks (a daily shape) on season.example, then 5× the usual at 20:00 on 6 Sept.
    const rows: EventRow[] = [];
    const first = Date.UTC(2026, 6, 26, 22); // 27 July 00:00 in Paris
    for (let h = 0; h < 6 * 7 * 24; h++) {
      const ts = first + h * 3_600_000;
      const hour = (h + 24) % 24;
      let count = 10 + Math.round(20 * Math.max(0, Math.sin(((hour - 6) / 24) * 2 * Math.PI))) + (h % 3);
      if (h === 6 * 7 * 24 - 4) count *= 5;
      for (let k = 0; k < count; k++)
        rows.push(
          blankRow({
            id: deterministicId(ts, `s${h}:${k}`),
            ts,
            site: 'season.example',
            type: 'pageview',
            source: 'import',
          }),
        );
    }
    await store.append(rows);
    // ops.example: a burst on /login (100 requests in each of 3 seconds) over a trickle (1 a minute).
    const ops: EventRow[] = [];
    const add = (ts: number, fields: Partial<EventRow>, key: string) =>
      ops.push(
        blankRow({
          id: deterministicId(ts, key),
          ts,
          site: 'ops.example',
          type: 'request',
          source: 'import',
          ...fields,
        }),
      );
    const noon = localToUtc(parseLocal('2026-07-05T12:00')!, 'Europe/Paris');
    for (let m = 0; m < 60; m++) add(noon + m * 60_000, { path: '/login' }, `t${m}`);
    for (let sec = 10; sec < 13; sec++)
      for (let k = 0; k < 100; k++) add(noon + sec * 1000 + k, { path: '/login' }, `b${sec}:${k}`);
    // Serving node: 14:00 mostly LHR, 15:00 mostly CDG (an island's traffic moving between nodes).
    const two = localToUtc(parseLocal('2026-07-05T14:00')!, 'Europe/Paris');
    for (let k = 0; k < 100; k++) add(two + k * 1000, { node: k < 90 ? 'LHR' : 'CDG', path: '/' }, `n1:${k}`);
    for (let k = 0; k < 100; k++)
      add(two + 3_600_000 + k * 1000, { node: k < 10 ? 'LHR' : 'CDG', path: '/' }, `n2:${k}`);
    // Regions at 18:00: FR-COR had 50 events the two previous Sundays and none now; FR-IDF steady.
    for (const [day, cor] of [
      ['2026-06-21', 50],
      ['2026-06-28', 50],
      ['2026-07-05', 0],
    ] as const) {
      const t = localToUtc(parseLocal(`${day}T18:00`)!, 'Europe/Paris');
      for (let k = 0; k < cor; k++) add(t + k * 1000, { region: 'FR-COR', path: '/' }, `c${day}:${k}`);
      for (let k = 0; k < 60; k++) add(t + k * 1000, { region: 'FR-IDF', path: '/' }, `i${day}:${k}`);
    }
    await store.append(ops);
  });

  afterAll(() => store.close());

  const query = { sites: ['a.example'], interval: '1h', from: '2026-07-05T18:00', to: '2026-07-06T00:00' };

  describe('spike and dip detector', () => {
    it('ranks buckets by change against the same local hour one week earlier, and says it plainly', async () => {
      const { spikes } = await detectSpikes(store, config, query);
      expect(spikes.map((s) => s.text)).toEqual([
        '#1 Sun 5 Jul 20:00 local, +925% vs the previous Sunday at the same time',
        '#2 Sun 5 Jul 21:00 local, -60% vs the previous Sunday at the same time',
        '#3 Sun 5 Jul 23:00 local, +10% vs the previous Sunday at the same time',
      ]);
      expect(spikes[0]).toMatchObject({
        rank: 1,
        time: '2026-07-05T20:00:00+02:00',
        value: 205,
        baseline: 20,
        change: 925,
      });
    });

    it('keeps only spikes or only dips when asked, and ignores changes under the floor', async () => {
      expect(
        (await detectSpikes(store, config, query, { direction: 'dips' })).spikes.map((s) => s.change),
      ).toEqual([-60]);
      expect(
        (await detectSpikes(store, config, query, { direction: 'spikes', limit: 1 })).spikes.map(
          (s) => s.change,
        ),
      ).toEqual([925]);
      expect((await detectSpikes(store, config, query, { floor: 3 })).spikes.map((s) => s.change)).toContain(
        300,
      );
    });

    it('names the dimension value with a breakdown', async () => {
      const { spikes } = await detectSpikes(
        store,
        config,
        { ...query, breakdown: 'region', top: 2 },
        { direction: 'spikes' },
      );
      expect(spikes.find((s) => s.dimension === 'FR-GES')?.text).toBe(
        '#2 FR-GES Sun 5 Jul 23:00 local, +10% vs the previous Sunday at the same time',
      );
    });
  });

  describe('streaming anomaly detector on a stored series', () => {
    it('flags the one unusual hour of the last week, and only it', async () => {
      const { anomalies } = await detectSeriesAnomalies(store, config, {
        sites: ['season.example'],
        interval: '1h',
        from: '2026-08-31',
        to: '2026-09-07',
      });
      expect(anomalies.map((a) => a.time)).toEqual(['2026-09-06T20:00:00+02:00']);
      expect(anomalies[0]!.text).toMatch(
        /^2026-09-06 20:00 local: pageviews \d+, [a-z ]+ \(score [\d.]+, 1 is the threshold\)$/,
      );
    });

    it('refuses a breakdown or a comparison', async () => {
      await expect(
        detectSeriesAnomalies(store, config, {
          sites: ['season.example'],
          last: '7d',
          compare: 'previous_week',
        }),
      ).rejects.toMatchObject({
        code: 'invalid_query',
        path: 'compare',
      });
    });
  });

  describe('attack, shift and outage detectors', () => {
    const day = { sites: ['ops.example'], from: '2026-07-05T12:00', to: '2026-07-05T13:00' };

    it('finds a request-rate attack at 1-second resolution with peak, duration and total', async () => {
      const { attacks } = await detectAttacks(store, config, day);
      expect(attacks).toHaveLength(1);
      expect(attacks[0]).toMatchObject({
        site: 'ops.example',
        path: '/login',
        start: '2026-07-05T12:00:10+02:00',
        end: '2026-07-05T12:00:12+02:00',
        durationSeconds: 3,
        peakRps: 100,
        totalRequests: 300,
        baselineRps: 0.1,
      });
      expect(attacks[0]!.text).toBe(
        'ops.example/login 2026-07-05 12:00:10 local: 100 rps peak, 3 s, 300 requests (usual 0.1 rps)',
      );
      expect((await detectAttacks(store, config, day, { minRps: 101 })).attacks).toEqual([]);
    });

    it('finds a traffic shift between serving nodes', async () => {
      const { shifts } = await detectShifts(
        store,
        config,
        { sites: ['ops.example'], interval: '1h', from: '2026-07-05T14:00', to: '2026-07-05T16:00' },
        { dimension: 'node' },
      );
      expect(shifts).toEqual([
        {
          time: '2026-07-05T15:00:00+02:00',
          moved: 80,
          gainer: { value: 'CDG', from: 10, to: 90 },
          loser: { value: 'LHR', from: 90, to: 10 },
          text: '2026-07-05 15:00 local: 80% of traffic moved by node; LHR 90% → 10%, CDG 10% → 90%',
        },
      ]);
    });

    it('finds a region falling to zero against its forecast, and not the steady one', async () => {
      const { outages } = await detectOutages(
        store,
        config,
        { sites: ['ops.example'], interval: '1h', from: '2026-07-05T17:00', to: '2026-07-05T20:00' },
        { dimension: 'region' },
      );
      expect(outages).toEqual([
        {
          value: 'FR-COR',
          start: '2026-07-05T18:00:00+02:00',
          end: '2026-07-05T18:00:00+02:00',
          buckets: 1,
          observed: 0,
          expected: 50,
          change: -100,
          text: 'FR-COR 2026-07-05 18:00 → 2026-07-05 18:00 local: 0 events vs 50 expected (-100%)',
        },
      ]);
    });
  });
});
