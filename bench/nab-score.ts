/**
 * NAB scoring (numenta/NAB's Sweeper rules): in a window, only the first detection counts, with
 * the scaled sigmoid of its relative position (earlier is better); a detection outside every
 * window costs the profile's FP weight, scaled by how far it is after the previous window (full
 * cost before the first window); a window without detection costs the FN weight; detections in
 * the probation period (min(15 % of the file, 750 rows)) are ignored.
 */
export interface Profile {
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
}

/** NAB's scaled sigmoid: 2 / (1 + e^(5y)) − 1, and −1 far past a window. */
export function scaledSigmoid(y: number): number {
  return y > 3 ? -1 : 2 / (1 + Math.exp(5 * y)) - 1;
}

/** NAB's probation length for a file of `rows` rows. */
export function probation(rows: number): number {
  return Math.min(Math.floor(0.15 * rows), 0.15 * 5000);
}

/** Raw score of one file; `windows` are [first, last] row indexes, sorted. */
export function scoreFile(
  detections: readonly boolean[],
  windows: readonly [number, number][],
  profile: Profile,
): { raw: number; tp: number; fp: number; fn: number } {
  const skip = probation(detections.length);
  let raw = 0;
  let tp = 0;
  let fp = 0;
  const hitWindows = new Set<number>();
  for (let i = 0; i < detections.length; i++) {
    if (!detections[i] || i < skip) continue;
    const w = windows.findIndex(([a, b]) => i >= a && i <= b);
    if (w >= 0) {
      if (hitWindows.has(w)) continue;
      hitWindows.add(w);
      const [a, b] = windows[w]!;
      raw += scaledSigmoid(-(b - i + 1) / (b - a + 1)) * profile.tpWeight;
      tp++;
      continue;
    }
    const previous = windows.filter(([, b]) => b < i).at(-1);
    const unweighted = previous ? scaledSigmoid(Math.abs(previous[1] - i) / (previous[1] - previous[0])) : -1;
    raw += unweighted * profile.fpWeight;
    fp++;
  }
  const fn = windows.length - hitWindows.size;
  raw -= fn * profile.fnWeight;
  return { raw, tp, fp, fn };
}
