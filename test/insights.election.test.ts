import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { detectSpikes } from '../src/insights/detectors/spikes.js';
import { getSeries } from '../src/insights/getSeries.js';
import { localToUtc, parseLocal } from '../src/time.js';
import type { Store } from '../src/store/store.js';
import { openTestStore, storeKinds } from './stores.js';
import { deterministicId } from '../src/store/ids.js';
import { blankRow, type EventRow } from '../src/store/row.js';

// An election night built in the test: Sunday 15 March 2026 (first round of the municipal
// elections) against Sunday 8 March, two news sites, three regions. At 20:00 local (results),
// traffic dips in Grand Est (−19 %) and Île-de-France (−10 %) while Auvergne-Rhône-Alpes holds;
// the mobile share peaks at 21:00.
const config = parseConfig(
  {
    sites: [
      { host: 'lequotidien.example', group: 'news' },
      { host: 'lhebdo.example', group: 'news' },
      { host: 'tele.example', group: 'tv' },
    ],
  },
  { env: {} },
);
describe.each(storeKinds())('on %s', (kind) => {
  let store: Store;
  let n = 0;

  /** `count` pageviews at a local Paris time, split over the two news sites, `mobile` of them on phones. */
  function views(local: string, region: string, count: number, mobile: number): EventRow[] {
    const ts = localToUtc(parseLocal(local)!, 'Europe/Paris');
    return Array.from({ length: count }, (_, i) =>
      blankRow({
        id: deterministicId(ts, String(n++)),
        ts: ts + i * 1000,
        site: i % 2 ? 'lhebdo.example' : 'lequotidien.example',
        type: 'pageview',
        source: 'import',
        country: 'FR',
        region,
        deviceType: i < mobile ? 'mobile' : 'desktop',
      }),
    );
  }

  const TABLE: [string, Record<string, [number, number]>][] = [
    // hour → region → [previous Sunday, election night]
    ['19:00', { 'FR-IDF': [100, 100], 'FR-GES': [100, 100], 'FR-ARA': [100, 100] }],
    ['20:00', { 'FR-IDF': [100, 90], 'FR-GES': [100, 81], 'FR-ARA': [100, 100] }],
    ['21:00', { 'FR-IDF': [100, 120], 'FR-GES': [100, 110], 'FR-ARA': [100, 105] }],
  ];
  const MOBILE = { '19:00': 0.4, '20:00': 0.45, '21:00': 0.6 } as Record<string, number>;

  beforeAll(async () => {
    store = await openTestStore(kind);
    const rows: EventRow[] = [];
    for (const [hour, regions] of TABLE) {
      for (const [region, [before, night]] of Object.entries(regions)) {
        rows.push(...views(`2026-03-08T${hour}`, region, before, Math.round(before * 0.4)));
        rows.push(...views(`2026-03-15T${hour}`, region, night, Math.round(night * MOBILE[hour]!)));
      }
    }
    rows.push(...views('2026-03-15T20:30', 'FR-IDF', 50, 0).map((r) => ({ ...r, site: 'tele.example' })));
    await store.append(rows);
  });

  afterAll(() => store.close());

  describe('election night (built in the test)', () => {
    const night = {
      group: 'news',
      interval: '1h',
      from: '2026-03-15T19:00',
      to: '2026-03-15T22:00',
      compare: 'previous_week',
    };

    it('reproduces the regional table against the previous Sunday, to the percent', async () => {
      const { rows } = await getSeries(store, config, { ...night, metric: 'pageviews', breakdown: 'region' });
      const at20 = rows.filter((r) => r.time === '2026-03-15T20:00:00+01:00' && r.region !== '(other)');
      expect(at20.map((r) => [r.region, r.label, r.value, r.baseline, r.change])).toEqual([
        ['FR-IDF', 'Île-de-France', 90, 100, -10],
        ['FR-ARA', 'Auvergne-Rhône-Alpes', 100, 100, 0],
        ['FR-GES', 'Grand Est', 81, 100, -19],
      ]);
      const total = await getSeries(store, config, { ...night, metric: 'pageviews' });
      expect(total.rows.map((r) => [r.time.slice(11, 16), r.value, r.baseline, r.change])).toEqual([
        ['19:00', 300, 300, 0],
        ['20:00', 271, 300, -9.7],
        ['21:00', 335, 300, 11.7],
      ]);
    });

    it('shows the mobile-share peak at 21:00', async () => {
      const { rows } = await getSeries(store, config, {
        ...night,
        metric: 'mobile_share',
        compare: undefined,
      });
      expect(rows.map((r) => [r.time.slice(11, 16), r.value])).toEqual([
        ['19:00', 40],
        ['20:00', 45.02],
        ['21:00', 60],
      ]);
    });

    it('ranks Grand Est first among the dips, in a sentence', async () => {
      const { spikes } = await detectSpikes(
        store,
        config,
        { ...night, metric: 'pageviews', breakdown: 'region' },
        { direction: 'dips' },
      );
      expect(spikes[0]!.text).toBe(
        '#1 FR-GES Sun 15 Mar 20:00 local, -19% vs the previous Sunday at the same time',
      );
    });
  });
});
