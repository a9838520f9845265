/**
 * The streaming anomaly detector: each point is judged on what came before it only, with O(1)
 * work per point (O(window) at most) and a state small enough to keep per series and save.
 *
 * It learns for a probation period (NAB's: 15 % of a file, at most 750 points; live: a fixed
 * number of points), then five experts watch each new point:
 * - **pattern**: the point's context — the level of the last k points, the level of the k before,
 *   and the spread of the last 4k, each quantised against the probation's range — is counted; a
 *   context seen rarely is surprising, and the surprise's short-term average is compared with
 *   its long-term distribution (an anomaly likelihood, as Numenta's HTM detector does with its
 *   prediction errors): a burst of never-seen contexts is an anomaly, a steady trickle is not;
 * - **level**: the level of the last k points beyond the highest or lowest seen, by 2 % of the
 *   range;
 * - **spread**: the spread of the last 4k points 50 % above the widest seen, or 90 % below the
 *   narrowest (a flat line where the series used to move);
 * - **seasonal**: the distance to the same time the day before, larger than ever by 30 %;
 * - **shift**: a lasting move of the level — a CUSUM of the deviations from a slow mean (its
 *   memory two probations), each clipped to 2 deviations, with a slack of 1, over 240.
 * After a detection the detector stays quiet for a fifth of the probation (one event, one alert).
 * Its settings were chosen once for the whole NAB corpus (`npm run bench:nab`), never per series.
 */

/** Which expert found the anomaly. */
export type AnomalyKind = 'pattern' | 'level' | 'spread' | 'seasonal' | 'shift';

/** What the detector says about one point. */
export interface Judgement {
  /** True on the first point of an anomaly (then quiet for the cool-down). */
  anomaly: boolean;
  /** The strongest expert's evidence, 1 at its threshold (0 while learning). */
  score: number;
  /** The expert with the strongest evidence. */
  kind: AnomalyKind | null;
  /** True while some expert's evidence is over its threshold (cool-down or not). */
  active: boolean;
}

/** Settings of a detector; only `probation` and `stepMs` depend on the series. */
export interface DetectorOptions {
  /** Points learnt before any judgement. */
  probation: number;
  /** The series' step in ms (for the seasonal expert: points per day). */
  stepMs: number;
  /** Other constants than TUNING's (`bench:nab --tuning`, to reproduce the sweeps; never per series). */
  tuning?: Partial<Tuning>;
}

/** The detector's whole state, as JSON (to save per series and restore after a restart). */
export interface DetectorState {
  v: 1;
  probation: number;
  perDay: number;
  n: number;
  learning: number[];
  recent: number[];
  lo: number;
  hi: number;
  sdMax: number;
  counts: Record<string, number>;
  raws: number[];
  recHigh: number;
  recLow: number;
  sdHigh: number;
  sdLow: number;
  seasonalHigh: number;
  last: number;
  /** The shift expert: a slow mean and deviation, and the two cumulative sums. */
  slow?: { mean: number; dev: number; up: number; down: number };
  tuning?: Partial<Tuning>;
}

/** The detector's constants, chosen once on the NAB corpus (`bench:nab`); never tuned per series. */
export const TUNING = {
  /** Points per level average: the probation over this. */
  kPerProbation: 450,
  levelBins: 16,
  spreadBins: 4,
  /** Tail probability of the pattern expert's likelihood. */
  likelihood: 0.002,
  averageOver: 10,
  historyPerProbation: 2,
  levelMargin: 0.01,
  spreadHigh: 0.5,
  spreadLow: 0.9,
  seasonalMargin: 0.3,
  coolPerProbation: 0.2,
  /** The shift expert's CUSUM threshold, in deviations (0: off). */
  shiftH: 240,
  /** The CUSUM's slack per point, in deviations. */
  shiftDelta: 1,
  /** Each point's deviation counts at most this much (spikes do not make a shift). */
  shiftClip: 2,
  /** The slow mean's memory, in probations. */
  shiftMemory: 2,
};

/** The detector's constants. */
export type Tuning = typeof TUNING;

/** The normal distribution's upper tail, Q(z) (Abramowitz–Stegun erfc, |error| < 1.2e-7). */
export function upperTail(z: number): number {
  const x = z / Math.SQRT2;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.5 * a);
  const poly =
    -a * a -
    1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const erfc = t * Math.exp(poly);
  return 0.5 * (x >= 0 ? erfc : 2 - erfc);
}

/** A streaming anomaly detector for one series. */
export class AnomalyDetector {
  private readonly s: DetectorState;
  private readonly k: number;
  private readonly history: number;
  private readonly cool: number;
  private readonly keep: number;
  private readonly t: Tuning;

  constructor(options: DetectorOptions | DetectorState) {
    if ('v' in options) {
      this.s = structuredClone(options);
    } else {
      const probation = Math.max(8, Math.floor(options.probation));
      this.s = {
        v: 1,
        probation,
        perDay: Math.round(86_400_000 / Math.max(1, options.stepMs)),
        n: 0,
        learning: [],
        recent: [],
        lo: 0,
        hi: 0,
        sdMax: 0,
        counts: {},
        raws: [],
        recHigh: -Infinity,
        recLow: Infinity,
        sdHigh: -Infinity,
        sdLow: Infinity,
        seasonalHigh: -Infinity,
        last: -Infinity,
        ...(options.tuning ? { tuning: options.tuning } : {}),
      };
    }
    this.t = { ...TUNING, ...this.s.tuning };
    const p = this.s.probation;
    this.k = Math.max(1, Math.round(p / this.t.kPerProbation));
    this.history = Math.round(p * this.t.historyPerProbation);
    this.cool = Math.round(p * this.t.coolPerProbation);
    this.keep = Math.max(5 * this.k, this.seasonal() ? this.s.perDay + this.k : 0) + 1;
  }

  /** A copy of the state (JSON-safe once infinities are written as null; see `toJSON`). */
  state(): DetectorState {
    return structuredClone(this.s);
  }

  /** The state as JSON text (±Infinity kept). */
  toJSON(): string {
    return JSON.stringify(this.s, (_k, v: unknown) =>
      v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v,
    );
  }

  /** A detector from `toJSON`'s text. */
  static fromJSON(text: string): AnomalyDetector {
    const state = JSON.parse(text, (_k, v: unknown) =>
      v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v,
    ) as DetectorState;
    if (state.v !== 1) throw new Error('unknown anomaly detector state');
    return new AnomalyDetector(state);
  }

  /** The median of the points kept (the last day, or the last few), 0 before any. */
  typical(): number {
    const values = [...this.s.recent, ...this.s.learning].sort((a, b) => a - b);
    return values.length ? values[values.length >> 1]! : 0;
  }

  /** Points seen so far. */
  get seen(): number {
    return this.s.n;
  }

  /** Judges the next point of the series. */
  push(value: number): Judgement {
    const s = this.s;
    if (!Number.isFinite(value)) value = 0;
    if (s.n < s.probation) {
      s.learning.push(value);
      s.n++;
      if (s.n === s.probation) this.endProbation();
      return { anomaly: false, score: 0, kind: null, active: false };
    }
    return this.step(value, true);
  }

  private seasonal(): boolean {
    return this.s.perDay > 1;
  }

  /** The probation's range is known: learn its points as if they had come one by one. */
  private endProbation(): void {
    const s = this.s;
    s.lo = Math.min(...s.learning);
    s.hi = Math.max(...s.learning);
    const points = s.learning;
    if (this.t.shiftH > 0) {
      const sorted = [...points].sort((a, b) => a - b);
      const median = sorted[sorted.length >> 1]!;
      const deviations = points.map((v) => Math.abs(v - median)).sort((a, b) => a - b);
      s.slow = { mean: median, dev: deviations[deviations.length >> 1]! * 1.4826 || 1e-9, up: 0, down: 0 };
    }
    s.learning = [];
    s.n = 0;
    for (const value of points) this.step(value, false);
  }

  private mean(from: number, to: number): number {
    // `from`/`to` count back from the newest point (0 = newest), inclusive.
    const r = this.s.recent;
    let sum = 0;
    for (let j = from; j <= to; j++) sum += r[r.length - 1 - j]!;
    return sum / (to - from + 1);
  }

  private spread(count: number): number {
    const m = this.mean(0, count - 1);
    const r = this.s.recent;
    let sum = 0;
    for (let j = 0; j < count; j++) sum += (r[r.length - 1 - j]! - m) ** 2;
    return Math.sqrt(sum / count);
  }

  private step(value: number, judge: boolean): Judgement {
    const s = this.s;
    const k = this.k;
    const i = s.n++;
    s.recent.push(value);
    if (s.recent.length > this.keep) s.recent.splice(0, s.recent.length - this.keep);
    const live = judge && i - s.last > this.cool;
    let score = 0;
    let kind: AnomalyKind | null = null;
    const evidence = (strength: number, name: AnomalyKind) => {
      if (strength > score) {
        score = strength;
        kind = name;
      }
    };
    const range = s.hi - s.lo || 1;
    const bin = (v: number) => Math.floor(((v - s.lo) / range) * this.t.levelBins);
    const K = 4 * k;
    if (s.recent.length >= K + k && i + 1 >= K + k) {
      const level = this.mean(0, k - 1);
      const before = this.mean(k, 2 * k - 1);
      const sd = this.spread(K);
      if (!judge) s.sdMax = Math.max(s.sdMax, sd);
      const key = `${bin(before)},${bin(level)},${Math.floor((sd / (s.sdMax || 1)) * this.t.spreadBins)}`;
      const count = s.counts[key] ?? 0;
      s.counts[key] = count + 1;
      const tail = this.likelihood(1 / (1 + count));
      if (judge) evidence(Math.log(Math.max(tail, 1e-300)) / Math.log(this.t.likelihood), 'pattern');
    }
    if (i + 1 >= K && s.recent.length >= K) {
      const level = this.mean(0, k - 1);
      const sd = this.spread(K);
      if (judge) {
        const margin = (s.recHigh - s.recLow) * this.t.levelMargin;
        const beyond = Math.max(level - s.recHigh, s.recLow - level);
        if (Number.isFinite(beyond) && beyond > margin) evidence(1 + (beyond - margin) / range, 'level');
        if (sd > s.sdHigh * (1 + this.t.spreadHigh))
          evidence(sd / (s.sdHigh * (1 + this.t.spreadHigh) || 1), 'spread');
        if (sd < s.sdLow * (1 - this.t.spreadLow))
          evidence(1 + (s.sdLow * (1 - this.t.spreadLow) - sd) / (s.sdLow || 1), 'spread');
      }
      s.recHigh = Math.max(s.recHigh, level);
      s.recLow = Math.min(s.recLow, level);
      s.sdHigh = Math.max(s.sdHigh, sd);
      s.sdLow = Math.min(s.sdLow, sd);
    }
    if (this.seasonal() && i >= s.perDay + k && s.recent.length > s.perDay + k - 1) {
      let sum = 0;
      const r = s.recent;
      for (let j = 0; j < k; j++) sum += Math.abs(r[r.length - 1 - j]! - r[r.length - 1 - j - s.perDay]!);
      const distance = sum / k;
      if (judge && distance > s.seasonalHigh * (1 + this.t.seasonalMargin))
        evidence(distance / (s.seasonalHigh * (1 + this.t.seasonalMargin) || 1), 'seasonal');
      if (i >= s.perDay * 2) s.seasonalHigh = Math.max(s.seasonalHigh, distance);
    }
    if (s.slow) {
      const w = s.slow;
      const z = Math.max(-this.t.shiftClip, Math.min(this.t.shiftClip, (value - w.mean) / (w.dev || 1e-9)));
      w.up = Math.max(0, w.up + z - this.t.shiftDelta);
      w.down = Math.max(0, w.down - z - this.t.shiftDelta);
      if (judge) evidence(Math.max(w.up, w.down) / this.t.shiftH, 'shift');
      const alpha = 1 / (this.t.shiftMemory * s.probation);
      w.mean += alpha * (value - w.mean);
      w.dev += alpha * (Math.abs(value - w.mean) - w.dev);
      if (!judge && s.n === s.probation) {
        w.up = 0;
        w.down = 0;
      }
    }
    const active = score > 1;
    const anomaly = active && live;
    if (anomaly) {
      s.last = i;
      if (s.slow) s.slow.up = s.slow.down = 0;
    }
    return { anomaly, score: Math.round(score * 100) / 100, kind, active };
  }

  /** Numenta's anomaly likelihood: the tail probability of the recent mean surprise. */
  private likelihood(raw: number): number {
    const raws = this.s.raws;
    raws.push(raw);
    if (raws.length > this.history) raws.splice(0, raws.length - this.history);
    let sum = 0;
    let squares = 0;
    for (const r of raws) {
      sum += r;
      squares += r * r;
    }
    const mean = sum / raws.length;
    const sd = Math.sqrt(Math.max(0.0001, squares / raws.length - mean * mean));
    const recent = raws.slice(-this.t.averageOver);
    const average = recent.reduce((a, b) => a + b, 0) / recent.length;
    return upperTail((average - mean) / sd);
  }
}
