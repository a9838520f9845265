// bench:privacy — (1) false-positive rate of each DLP detector over real text that holds no
// personal data: the paths (with queries) and User-Agents of ../shared/data/logs/apache_combined.log
// and the uap-core User-Agent corpus; (2) cost of the privacy steps per event (median, p99).
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { parseConfig } from '../src/config/load.js';
import type { PipelineContext } from '../src/pipeline/event.js';
import type { Step, StepInput } from '../src/pipeline/step.js';
import { maskPersonalData } from '../src/pipeline/steps/maskPersonalData.js';
import { putPage } from '../src/pipeline/steps/putPage.js';
import { putReferrer } from '../src/pipeline/steps/putReferrer.js';
import { DETECTORS, DLP_KINDS } from '../src/privacy/dlp/detectors.js';
import { hashVisitor, visitorKey } from '../src/privacy/visitor-hash.js';
import { reduceUserAgent } from '../src/privacy/user-agent.js';
import { newEventId } from '../src/store/ids.js';
import { blankRow } from '../src/store/row.js';

const data = join(fileURLToPath(new URL('../..', import.meta.url)), 'shared', 'data');
const LINE = /^(\S+) \S+ \S+ \[[^\]]+\] "(?:\S+) (\S+)[^"]*" \d+ \S+ "([^"]*)" "([^"]*)"/;

const paths = new Set<string>();
const agents = new Set<string>();
const referrers: string[] = [];
const events: { path: string; ua: string; referrer: string; ip: string }[] = [];
for (const line of readFileSync(join(data, 'logs', 'apache_combined.log'), 'utf8').split('\n')) {
  const m = LINE.exec(line);
  if (!m) continue;
  paths.add(m[2]!);
  agents.add(m[4]!);
  referrers.push(m[3]!);
  events.push({ ip: m[1]!, path: m[2]!, referrer: m[3]!, ua: m[4]! });
}
const corpus = (
  parse(readFileSync(join(data, 'uap-core', 'test_ua.yaml'), 'utf8')) as {
    test_cases: { user_agent_string: string }[];
  }
).test_cases.map((c) => c.user_agent_string);

process.stdout.write(
  `bench:privacy — ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, Node ${process.version}\n`,
);
process.stdout.write(
  `DLP false positives (texts flagged / distinct texts; none of these texts is personal data):\n`,
);
const sets: [string, string[]][] = [
  ['log paths', [...paths]],
  ['log User-Agents', [...agents]],
  ['uap-core User-Agents', corpus],
];
let worst = 0;
for (const [name, texts] of sets) {
  const cells: string[] = [];
  for (const kind of DLP_KINDS) {
    const flagged = texts.filter((t) => DETECTORS[kind](t).length > 0);
    const rate = (100 * flagged.length) / texts.length;
    worst = Math.max(worst, rate);
    cells.push(
      `${kind} ${rate.toFixed(2)}%${flagged.length > 0 ? ` (${flagged.length}, e.g. ${JSON.stringify(flagged[0]!.slice(0, 60))})` : ''}`,
    );
  }
  process.stdout.write(`  ${name} (${texts.length}):\n    ${cells.join('\n    ')}\n`);
}

// Cost of the privacy steps on the log's real requests (page, referrer, DLP, visitor hash, UA reduce).
const site = parseConfig(
  { sites: [{ host: 'semicomplete.com', aliases: ['www.semicomplete.com'] }] },
  { env: {} },
).sites[0]!;
const key = visitorKey(Buffer.alloc(32, 7));
const ctx: PipelineContext = {
  node: 'b',
  geo: () => ({ country: null, region: null, asn: null }),
  visitorHash: () => '1',
  countFinding: () => undefined,
};
const parts = ['putPage', 'putReferrer', 'maskPersonalData', 'visitor hash', 'UA reduce (tools)'] as const;
const timings: Record<(typeof parts)[number] | 'total', number[]> = {
  putPage: [],
  putReferrer: [],
  maskPersonalData: [],
  'visitor hash': [],
  'UA reduce (tools)': [],
  total: [],
};
const time = (name: (typeof parts)[number], record: boolean, fn: () => unknown): number => {
  const start = process.hrtime.bigint();
  fn();
  const us = Number(process.hrtime.bigint() - start) / 1000;
  if (record) timings[name].push(us);
  return us;
};
/** Runs one step and sets its columns on the event's row, as the runner does. */
function apply(step: Step, event: StepInput): void {
  const outcome = step.run(event, ctx);
  if (!(outcome instanceof Promise) && outcome.kind === 'ok') Object.assign(event.row, outcome.set);
}
for (let round = 0; round < 3; round++) {
  for (const e of events) {
    const event: StepInput = {
      site,
      raw: {
        type: 'pageview',
        name: null,
        url: `https://semicomplete.com${e.path}`,
        title: null,
        referrer: e.referrer === '-' ? null : e.referrer,
        clientTimestamp: null,
        props: null,
        ip: e.ip,
        userAgent: e.ua,
        receivedAt: 0,
        source: 'import',
      },
      row: blankRow({ id: newEventId(), ts: 0, site: site.host, type: 'pageview', source: 'import' }),
    };
    const record = round > 0;
    let total = 0;
    total += time('putPage', record, () => apply(putPage, event));
    total += time('putReferrer', record, () => apply(putReferrer, event));
    total += time('maskPersonalData', record, () => apply(maskPersonalData, event));
    total += time('visitor hash', record, () => hashVisitor(key, site.host, e.ip, e.ua));
    if (record) timings.total.push(total);
    time('UA reduce (tools)', record, () => reduceUserAgent(e.ua));
  }
}
const quantile = (values: number[], q: number): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length * q)]!;
process.stdout.write(
  `privacy steps per event over ${timings.total.length} real requests (median / p99 µs):\n`,
);
for (const name of [...parts, 'total'] as const) {
  process.stdout.write(
    `  ${name.padEnd(20)} ${quantile(timings[name], 0.5).toFixed(1).padStart(6)} / ${quantile(timings[name], 0.99).toFixed(1)}\n`,
  );
}
const median = quantile(timings.total, 0.5);
const p99 = quantile(timings.total, 0.99);
process.stdout.write(
  `summary: collect privacy steps median ${median.toFixed(1)} µs, p99 ${p99.toFixed(1)} µs per event; worst DLP false-positive rate ${worst.toFixed(2)}%\n`,
);
