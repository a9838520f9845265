import { describe, expect, it } from 'vitest';
import { probation, scaledSigmoid, scoreFile } from '../bench/nab-score.js';
import { detectAnomalies, samplingStep, type Point } from '../src/insights/detectors/anomalies.js';

const standard = { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 };

describe('NAB scoring rules', () => {
  it('scores a detection at a window start ≈ 0.9866 and later ones less', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.9866, 4);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(4)).toBe(-1);
  });

  it('counts only the first detection in a window, FNs for missed windows, and FPs by distance', () => {
    const detections = Array<boolean>(2000).fill(false);
    const windows: [number, number][] = [
      [1000, 1099],
      [1500, 1599],
    ];
    detections[1000] = true; // first in window 1: ~0.9866
    detections[1050] = true; // ignored
    detections[900] = true; // before every window: full FP cost
    const result = scoreFile(detections, windows, standard);
    expect(result).toMatchObject({ tp: 1, fp: 1, fn: 1 });
    expect(result.raw).toBeCloseTo(0.9866 - 0.11 - 1, 3);
  });

  it('ignores detections in the probation period (min(15 %, 750 rows))', () => {
    expect(probation(2000)).toBe(300);
    expect(probation(10_320)).toBe(750);
    const detections = Array<boolean>(2000).fill(false);
    detections[10] = true;
    expect(scoreFile(detections, [], standard)).toMatchObject({ raw: 0, fp: 0 });
  });
});

describe('seasonal anomaly detector', () => {
  // Six weeks of half-hourly data with a daily and weekly shape and a little noise.
  function series(drop?: { from: number; to: number }): Point[] {
    let seed = 7;
    const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 40;
    return Array.from({ length: 6 * 7 * 48 }, (_, i) => {
      const hour = (i % 48) / 2;
      const weekend = Math.floor(i / 48) % 7 >= 5;
      let value = 1000 + 600 * Math.sin(((hour - 6) / 24) * 2 * Math.PI) * (weekend ? 0.6 : 1) + noise();
      if (drop && i >= drop.from && i < drop.to) value *= 0.2;
      return { ts: Date.UTC(2026, 0, 5) + i * 1_800_000, value };
    });
  }

  it('infers the sampling step', () => {
    expect(samplingStep(series())).toBe(1_800_000);
  });

  it('stays quiet on a regular series once two weeks of history give it the weekly shape', () => {
    // Before that it only knows the daily shape, so weekends can surprise it (NAB's probation).
    expect(
      detectAnomalies(series())
        .detections.slice(2 * 7 * 48)
        .filter(Boolean),
    ).toHaveLength(0);
  });

  it('flags a sudden drop once, at its start', () => {
    const start = 5 * 7 * 48 + 20;
    const { detections } = detectAnomalies(series({ from: start, to: start + 12 }));
    const hits = detections.flatMap((d, i) => (d && i >= 2 * 7 * 48 ? [i] : []));
    expect(hits).toEqual([start]);
  });
});
