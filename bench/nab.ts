// bench:nab -- --data DIR --windows FILE [--profile standard] [--profiles FILE] [--tuning JSON]
// Runs the anomaly detector, unchanged (one configuration for every file, NAB's probation), on
// every NAB-format CSV (timestamp,value) under DIR, scores it with NAB's rules against the
// windows file, prints one line per file, the score of each subset (folder) and of nyc_taxi when
// present, and ends with `score <number>` (normalised: 100 × (raw − null) / (perfect − null)).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import type { Tuning } from '../src/insights/detectors/anomaly-detector.js';
import { detectAnomalies, type Point } from '../src/insights/detectors/anomalies.js';
import { scaledSigmoid, scoreFile, type Profile } from './nab-score.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    windows: { type: 'string' },
    profile: { type: 'string' },
    profiles: { type: 'string' },
    // Other detector constants, e.g. '{"shiftH":160}': how BENCHMARKS.md's neighbouring settings were scored.
    tuning: { type: 'string' },
  },
});
if (!values.data || !values.windows) {
  process.stderr.write(
    'usage: npm run bench:nab -- --data DIR --windows FILE [--profile standard] [--profiles FILE] [--tuning JSON]\n',
  );
  process.exit(2);
}
const PROFILES: Record<string, Profile> = {
  standard: { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 },
  reward_low_FP_rate: { tpWeight: 1, fpWeight: 0.22, fnWeight: 1 },
  reward_low_FN_rate: { tpWeight: 1, fpWeight: 0.11, fnWeight: 2 },
};
if (values.profiles) {
  const file = JSON.parse(readFileSync(values.profiles, 'utf8')) as Record<string, { CostMatrix: Profile }>;
  for (const [name, p] of Object.entries(file)) PROFILES[name] = p.CostMatrix;
}
const tuning = values.tuning ? (JSON.parse(values.tuning) as Partial<Tuning>) : undefined;
const profileName = values.profile ?? 'standard';
const profile = PROFILES[profileName];
if (!profile) throw new Error(`unknown profile ${profileName} (known: ${Object.keys(PROFILES).join(', ')})`);
const windowsByFile = JSON.parse(readFileSync(values.windows, 'utf8')) as Record<string, [string, string][]>;

function csvFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? csvFiles(path) : name.endsWith('.csv') ? [path] : [];
  });
}

const parseTime = (text: string) => Date.parse(`${text.trim().replace(' ', 'T').slice(0, 19)}Z`);
let raw = 0;
let perfect = 0;
let nullScore = 0;
let scored = 0;
let detectorMs = 0;
let detectorPoints = 0;
/** Raw, perfect and null sums per subset (the file's folder) and per file name. */
const groups = new Map<string, { raw: number; perfect: number; nullScore: number }>();
const add = (name: string, r: number, p: number, n: number) => {
  const g = groups.get(name) ?? { raw: 0, perfect: 0, nullScore: 0 };
  groups.set(name, { raw: g.raw + r, perfect: g.perfect + p, nullScore: g.nullScore + n });
};
const normalised = (g: { raw: number; perfect: number; nullScore: number }) =>
  g.perfect === g.nullScore ? 0 : (100 * (g.raw - g.nullScore)) / (g.perfect - g.nullScore);
for (const file of csvFiles(values.data).sort()) {
  const name = relative(values.data, file);
  const key = Object.keys(windowsByFile).find(
    (k) => k === name || k.endsWith(`/${name}`) || name.endsWith(k),
  );
  if (!key) {
    process.stdout.write(`${name}: no windows in ${values.windows}, skipped\n`);
    continue;
  }
  const points: Point[] = readFileSync(file, 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => line.includes(','))
    .map((line) => {
      const [ts, value] = line.split(',');
      return { ts: parseTime(ts!), value: Number(value) };
    });
  const windows = windowsByFile[key]!.map(([a, b]): [number, number] => {
    const start = parseTime(a);
    const end = parseTime(b);
    const first = points.findIndex((p) => p.ts >= start);
    let last = points.length - 1;
    while (last > 0 && points[last]!.ts > end) last--;
    return [first, last];
  });
  const started = performance.now();
  const { detections } = detectAnomalies(points, tuning ? { tuning } : {});
  const elapsed = performance.now() - started;
  detectorMs += elapsed;
  detectorPoints += points.length;
  const result = scoreFile(detections, windows, profile);
  const fileNull = -windows.length * profile.fnWeight;
  const filePerfect = windows.length * profile.tpWeight * scaledSigmoid(-1);
  raw += result.raw;
  nullScore += fileNull;
  perfect += filePerfect;
  scored++;
  add(
    `subset ${name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : '.'}`,
    result.raw,
    filePerfect,
    fileNull,
  );
  if (name.endsWith('nyc_taxi.csv')) add('file nyc_taxi', result.raw, filePerfect, fileNull);
  process.stdout.write(
    `${name}: raw ${result.raw.toFixed(3)}  TP ${result.tp}  FP ${result.fp}  FN ${result.fn}  windows ${windows.length}  detector ${elapsed.toFixed(0)} ms for ${points.length} points\n`,
  );
}
for (const [name, g] of [...groups].sort(([a], [b]) => a.localeCompare(b)))
  process.stdout.write(
    `${name}: ${normalised(g).toFixed(1)}${g.perfect === g.nullScore ? ' (no windows: raw ' + g.raw.toFixed(2) + ')' : ''}\n`,
  );
const score = perfect === nullScore ? 0 : (100 * (raw - nullScore)) / (perfect - nullScore);
process.stdout.write(
  `detector: ${detectorPoints} points in ${detectorMs.toFixed(0)} ms (${((1000 * detectorMs) / Math.max(1, detectorPoints)).toFixed(1)} µs a point)\n${scored} file(s), profile ${profileName}\nscore ${score.toFixed(1)}\n`,
);
