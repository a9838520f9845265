import { describe, expect, it } from 'vitest';
import { probation, scaledSigmoid, scoreFile } from '../bench/nab-score.js';
import { execFileSync } from 'node:child_process';
import { AnomalyDetector, upperTail } from '../src/insights/detectors/anomaly-detector.js';
import { detectAnomalies, samplingStep, type Point } from '../src/insights/detectors/anomalies.js';
import { HAS_SHARED_DATA, sharedData } from './shared-data.js';

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

describe('streaming anomaly detector', () => {
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

  it('says nothing during its probation and little on a regular series after it', () => {
    const { detections } = detectAnomalies(series());
    expect(detections.slice(0, 750).filter(Boolean)).toHaveLength(0);
    expect(detections.filter(Boolean).length).toBeLessThanOrEqual(1);
  });

  it('flags a sudden drop once, within two hours of its start', () => {
    const start = 5 * 7 * 48 + 20;
    const quiet = detectAnomalies(series()).detections;
    const { detections, kinds } = detectAnomalies(series({ from: start, to: start + 12 }));
    const hits = detections.flatMap((d, i) => (d && !quiet[i] ? [i] : []));
    expect(hits).toHaveLength(1);
    expect(hits[0]! - start).toBeGreaterThanOrEqual(0);
    expect(hits[0]! - start).toBeLessThanOrEqual(4);
    expect(kinds[hits[0]!]).not.toBeNull();
  });

  it('saved and restored mid-series, judges every later point as if it had never stopped', () => {
    const points = series({ from: 5 * 7 * 48, to: 5 * 7 * 48 + 12 });
    const straight = new AnomalyDetector({ probation: 750, stepMs: 1_800_000 });
    const expected = points.map((p) => straight.push(p.value));
    for (const cut of [10, 749, 750, 1200, 1700]) {
      let detector = new AnomalyDetector({ probation: 750, stepMs: 1_800_000 });
      const got = points.map((p, i) => {
        if (i === cut) detector = AnomalyDetector.fromJSON(detector.toJSON());
        return detector.push(p.value);
      });
      expect(got).toEqual(expected);
    }
  });

  it('keeps a small state: the last day, the likelihood history and the contexts seen', () => {
    const detector = new AnomalyDetector({ probation: 750, stepMs: 60_000 });
    for (let i = 0; i < 20_000; i++) detector.push(100 + 50 * Math.sin(i / 200) + (i % 7));
    expect(detector.toJSON().length).toBeLessThan(120_000);
    expect(detector.seen).toBe(20_000);
  });

  it('refuses a state it does not know', () => {
    expect(() => AnomalyDetector.fromJSON('{"v":2}')).toThrow(/unknown anomaly detector state/);
  });

  it('gives Q(z) of the normal distribution', () => {
    expect(upperTail(0)).toBeCloseTo(0.5, 6);
    expect(upperTail(1.959964)).toBeCloseTo(0.025, 5);
    expect(upperTail(-3)).toBeCloseTo(0.99865, 4);
  });
});

describe.skipIf(!HAS_SHARED_DATA)(
  'the detector on NAB (shared/data/nab, one configuration for every file)',
  () => {
    it('scores above ARTime (72.6) on the 48 series and above relativeEntropy (88.9) on nyc_taxi', () => {
      const out = execFileSync(
        process.execPath,
        [
          '--import',
          'tsx',
          'bench/nab.ts',
          '--data',
          sharedData('nab', 'data'),
          '--windows',
          sharedData('nab', 'combined_windows.json'),
        ],
        { encoding: 'utf8' },
      );
      const score = Number(/^score (\S+)$/m.exec(out)?.[1]);
      const taxi = Number(/^file nyc_taxi: (\S+)$/m.exec(out)?.[1]);
      expect(out).toContain('48 file(s)');
      expect(score).toBeGreaterThan(72.6);
      expect(taxi).toBeGreaterThanOrEqual(88.9);
    }, 60_000);
  },
);
