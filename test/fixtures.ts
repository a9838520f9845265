import { localToUtc, parseLocal } from '../src/time.js';
import { deterministicId } from '../src/store/ids.js';
import { blankRow, type EventRow } from '../src/store/row.js';

let sequence = 0;

/** `count` pageview rows of site a.example at an instant, each with a unique id; fields overridable. */
export function rowsAt(ts: number, count: number, overrides: Partial<EventRow> = {}): EventRow[] {
  return Array.from({ length: count }, () => {
    const n = sequence++;
    return blankRow({
      id: deterministicId(ts, `fixture:${n}`),
      ts,
      site: 'a.example',
      type: 'pageview',
      source: 'import',
      ...overrides,
    });
  });
}

/** `rowsAt` at a local wall-clock time (`YYYY-MM-DDTHH:MM`) in Europe/Paris. */
export function rowsAtLocal(local: string, count: number, overrides: Partial<EventRow> = {}): EventRow[] {
  return rowsAt(localToUtc(parseLocal(local)!, 'Europe/Paris'), count, overrides);
}

/** A small deterministic random generator (the same numbers on every run), in [0, 1). */
export function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** One of `values`, chosen by `random`. */
export function pick<T>(random: () => number, values: readonly T[]): T {
  return values[Math.floor(random() * values.length)]!;
}
