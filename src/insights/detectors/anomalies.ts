import { AnomalyDetector, type AnomalyKind, type Tuning } from './anomaly-detector.js';

/** One observation of a series. */
export interface Point {
  ts: number;
  value: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The sampling step of a series (median gap between timestamps), in ms. */
export function samplingStep(points: readonly Point[]): number {
  const gaps: number[] = [];
  for (let i = 1; i < Math.min(points.length, 1000); i++) gaps.push(points[i]!.ts - points[i - 1]!.ts);
  return gaps.length ? Math.max(1, median(gaps)) : 60_000;
}

/** NAB's probation for a series of `length` points: 15 % of it, at most 750 points. */
export function probationFor(length: number): number {
  return Math.min(Math.floor(0.15 * length), 750);
}

/**
 * Runs the streaming detector (`anomaly-detector.ts`) over a whole series, each point judged on
 * its past only: every point's score (1 at the threshold), the detections and the expert behind
 * each. The probation is NAB's unless given.
 */
export function detectAnomalies(
  points: readonly Point[],
  options: { probation?: number; tuning?: Partial<Tuning> } = {},
): { scores: number[]; detections: boolean[]; kinds: (AnomalyKind | null)[] } {
  const detector = new AnomalyDetector({
    probation: options.probation ?? probationFor(points.length),
    stepMs: samplingStep(points),
    ...(options.tuning ? { tuning: options.tuning } : {}),
  });
  const scores: number[] = [];
  const detections: boolean[] = [];
  const kinds: (AnomalyKind | null)[] = [];
  for (const point of points) {
    const judgement = detector.push(point.value);
    scores.push(judgement.score);
    detections.push(judgement.anomaly);
    kinds.push(judgement.kind);
  }
  return { scores, detections, kinds };
}

/** What each expert's finding means, in words. */
export const KIND_WORDS: Record<AnomalyKind, string> = {
  pattern: 'a pattern the series has not shown before',
  level: 'a level beyond any seen before',
  spread: 'a variation unlike any seen before',
  seasonal: 'further from the same time the day before than ever',
  shift: 'a lasting shift of its level',
};
