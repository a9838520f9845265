import type { Config } from '../../config/schema.js';
import { BaliseError } from '../../errors.js';
import type { StoreReader } from '../../store/store.js';
import { detectAttacks } from './attacks.js';
import { detectSeriesAnomalies } from './detectSeriesAnomalies.js';
import { detectOutages } from './outages.js';
import { detectShifts } from './shifts.js';
import { detectSpikes } from './spikes.js';

/** The detectors, by the name used in `balise detect NAME` and `/api/v1/detect/NAME`. */
export const DETECTOR_NAMES = ['spikes', 'dips', 'anomalies', 'attacks', 'shifts', 'outages'] as const;

/** One detector name. */
export type DetectorName = (typeof DETECTOR_NAMES)[number];

/** A detector's findings, each with a plain sentence, plus the resolved zone and sites. */
export interface Findings {
  findings: (Record<string, unknown> & { text: string })[];
  tz: string;
  sites: string[];
}

const number = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

/**
 * Runs detector `name` on a query-model input. Detector settings travel with the query:
 * `limit`, `floor` (spikes), `factor`, `minRps` (attacks), `threshold` (shifts), `ratio` (outages).
 */
export async function runDetector(
  store: StoreReader,
  config: Config,
  name: string,
  body: Record<string, unknown>,
): Promise<Findings> {
  const { limit, floor, factor, minRps, threshold, ratio, ...query } = body;
  const drop = <T extends Record<string, unknown>>(o: T) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  switch (name as DetectorName) {
    case 'spikes':
    case 'dips': {
      const r = await detectSpikes(
        store,
        config,
        query,
        drop({ direction: name as 'spikes' | 'dips', limit: number(limit), floor: number(floor) }),
      );
      return { findings: r.spikes as unknown as Findings['findings'], tz: r.tz, sites: r.sites };
    }
    case 'anomalies': {
      const r = await detectSeriesAnomalies(store, config, query);
      return { findings: r.anomalies as unknown as Findings['findings'], tz: r.tz, sites: r.sites };
    }
    case 'attacks': {
      const r = await detectAttacks(
        store,
        config,
        query,
        drop({ factor: number(factor), minRps: number(minRps), limit: number(limit) }),
      );
      return { findings: r.attacks as unknown as Findings['findings'], tz: r.tz, sites: r.sites };
    }
    case 'shifts': {
      const { breakdown, ...rest } = query;
      const r = await detectShifts(
        store,
        config,
        rest,
        drop({ dimension: breakdown, threshold: number(threshold) }),
      );
      return { findings: r.shifts as unknown as Findings['findings'], tz: r.tz, sites: r.sites };
    }
    case 'outages': {
      const { breakdown, ...rest } = query;
      const r = await detectOutages(
        store,
        config,
        rest,
        drop({ dimension: breakdown, ratio: number(ratio) }),
      );
      return { findings: r.outages as unknown as Findings['findings'], tz: r.tz, sites: r.sites };
    }
    default:
      throw new BaliseError(
        'invalid_query',
        `detector must be one of ${DETECTOR_NAMES.join(', ')}`,
        'detector',
      );
  }
}
