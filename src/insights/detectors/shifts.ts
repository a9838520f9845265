import type { Config } from '../../config/schema.js';
import type { StoreReader } from '../../store/store.js';
import { getSeries } from '../getSeries.js';
import type { Dimension } from '../model.js';

/** An abrupt change in how traffic is shared among the values of a dimension. */
export interface Shift {
  time: string;
  /** Share of traffic that moved (total variation distance, 0–100 %). */
  moved: number;
  gainer: { value: string; from: number; to: number };
  loser: { value: string; from: number; to: number };
  text: string;
}

/**
 * Traffic shifts: for each bucket, the shares of a dimension's values (serving node, ASN, region…)
 * against the previous bucket; a bucket where at least `threshold` % of the traffic changed hands
 * is reported with the value that gained most and the one that lost most.
 */
export async function detectShifts(
  store: StoreReader,
  config: Config,
  input: Record<string, unknown>,
  options: { dimension?: Dimension; threshold?: number; minEvents?: number } = {},
  now = Date.now(),
): Promise<{ shifts: Shift[]; tz: string; sites: string[] }> {
  const dimension =
    options.dimension ?? (typeof input.breakdown === 'string' ? (input.breakdown as Dimension) : 'node');
  const threshold = options.threshold ?? 30;
  const minEvents = options.minEvents ?? 20;
  const result = await getSeries(
    store,
    config,
    { ...input, metric: 'events', breakdown: dimension, top: 20 },
    now,
  );
  const byTime = new Map<string, Map<string, number>>();
  for (const row of result.rows) {
    const values = byTime.get(row.time) ?? new Map<string, number>();
    values.set(String(row[dimension]), row.value ?? 0);
    byTime.set(row.time, values);
  }
  const shares = (values: Map<string, number>) => {
    const total = [...values.values()].reduce((a, b) => a + b, 0);
    return { total, share: new Map([...values].map(([k, v]) => [k, total ? (100 * v) / total : 0])) };
  };
  const shifts: Shift[] = [];
  let previous: { total: number; share: Map<string, number> } | null = null;
  for (const [time, values] of byTime) {
    const current = shares(values);
    if (previous && previous.total >= minEvents && current.total >= minEvents) {
      const keys = new Set([...previous.share.keys(), ...current.share.keys()]);
      let moved = 0;
      let gainer = { value: '', from: 0, to: 0 };
      let loser = { value: '', from: 0, to: 0 };
      for (const key of keys) {
        const from = previous.share.get(key) ?? 0;
        const to = current.share.get(key) ?? 0;
        moved += Math.abs(to - from) / 2;
        if (to - from > gainer.to - gainer.from) gainer = { value: key, from, to };
        if (to - from < loser.to - loser.from) loser = { value: key, from, to };
      }
      if (moved >= threshold) {
        const round = (n: number) => Math.round(n * 10) / 10;
        gainer = { value: gainer.value, from: round(gainer.from), to: round(gainer.to) };
        loser = { value: loser.value, from: round(loser.from), to: round(loser.to) };
        shifts.push({
          time,
          moved: round(moved),
          gainer,
          loser,
          text: `${time.slice(0, 16).replace('T', ' ')} local: ${round(moved)}% of traffic moved by ${dimension}; ${loser.value} ${loser.from}% → ${loser.to}%, ${gainer.value} ${gainer.from}% → ${gainer.to}%`,
        });
      }
    }
    previous = current;
  }
  return { shifts, tz: result.tz, sites: result.sites };
}
