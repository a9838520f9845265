import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { GeoLookup } from '../src/enrich/geo.js';
import { ImportHasher } from '../src/import/hasher.js';
import { COMBINED, compileLogFormat } from '../src/import/formats/nginx-format.js';
import { lineIds, sha256LineId } from '../src/import/line-id.js';
import { ChunkProcessor, importPipeline, rawOfRecord } from '../src/import/process.js';
import type { LineIdScheme } from '../src/store/ids.js';
import type { PipelineContext } from '../src/pipeline/event.js';
import { Pipeline, type PipelineResult } from '../src/pipeline/runner.js';
import { set, type Step } from '../src/pipeline/step.js';
import { PIPELINE_STEPS } from '../src/pipeline/steps.js';
import { rowCsvLine } from '../src/store/csv.js';
import { HAS_SHARED_DATA, sharedData } from './shared-data.js';

// Lines that make every branch of the page, referrer and DLP steps work: personal data in the
// path and query, internal and external referrers, unparsable targets, absolute-URL targets.
const CRAFTED = [
  '203.0.113.9 - - [17/May/2015:10:05:03 +0000] "GET /contact/jean.dupont@example.fr HTTP/1.1" 200 12 "https://www.google.fr/search?q=x" "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"',
  '203.0.113.9 - - [17/May/2015:10:05:04 +0000] "GET /rappel?tel=+33612345678&page=2&utm_source=x HTTP/1.1" 200 12 "http://semicomplete.com/a?b=c" "curl/8.0"',
  '198.51.100.7 - - [17/May/2015:10:05:05 +0000] "GET https://www.semicomplete.com/abs?q=1 HTTP/1.1" 301 0 "-" "-"',
  '198.51.100.7 - - [17/May/2015:10:05:06 +0000] "GET //x:y HTTP/1.1" 400 0 "not a url" "Googlebot/2.1 (+http://www.google.com/bot.html)"',
  '2001:db8::1 - - [17/May/2015:10:05:07 +0000] "POST /search?q=FR7630006000011234567890189 HTTP/1.1" 200 5 "https://t.co/abc" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/126.0"',
];

const config = parseConfig(
  {
    sites: [
      { host: 'semicomplete.com', aliases: ['www.semicomplete.com'] },
      {
        host: 'keep.example',
        privacy: { profile: 'custom', query: 'keep', referrer: 'keep', dlp: 'report' },
      },
      {
        host: 'strict.example',
        timezone: 'Europe/Paris',
        privacy: { profile: 'custom', query: { allow: ['page', 'q'] }, referrer: 'remove', dlp: 'drop' },
      },
      { host: 'off.example', privacy: { profile: 'custom', query: 'known-trackers', dlp: 'off' } },
    ],
  },
  { env: {} },
);

async function contexts(): Promise<[PipelineContext, PipelineContext, Record<string, number>[]]> {
  const geo = await GeoLookup.open(config.geo);
  const hasher = new ImportHasher(new Uint8Array(32).fill(7));
  const counts: Record<string, number>[] = [{}, {}];
  const make = (counter: Record<string, number>): PipelineContext => ({
    node: '',
    geo: (ip) => geo.lookup(ip),
    visitorHash: (site, ip, ua, ts) => hasher.hash(site.host, site.timezone, ip, ua, ts),
    countFinding: (_site, kind) => {
      counter[kind] = (counter[kind] ?? 0) + 1;
    },
  });
  return [make(counts[0]!), make(counts[1]!), counts];
}

describe('imported HTTP rows', () => {
  it.skipIf(!HAS_SHARED_DATA)(
    'are the same CSV line whether the pipeline is memoised or not, line by line, on the real log (../shared/data) and under four policies',
    async () => {
      const real = readFileSync(sharedData('logs', 'apache_combined.log'), 'utf8')
        .split('\n')
        .filter(Boolean);
      await expectSameRows([...real, ...CRAFTED]);
    },
  );

  it.skipIf(!HAS_SHARED_DATA).each(['xxh64', 'sha256'] as LineIdScheme[])(
    'carry the %s line id of each line of the real log, CRLF endings included (../shared/data)',
    async (scheme) => {
      const text = readFileSync(sharedData('logs', 'apache_combined.log'), 'utf8');
      const lines = text.split('\n').filter(Boolean);
      const bytes = Buffer.from(`${lines.join('\r\n')}\r\n`);
      const processor = await ChunkProcessor.create({
        config,
        format: 'combined',
        site: 'semicomplete.com',
        tz: 'UTC',
        showBad: 0,
        secret: new Uint8Array(32),
        lineIds: scheme,
        geo: await GeoLookup.load(config.geo),
      });
      const result = await processor.process({ bytes, firstLine: 1, lines: lines.length, tooLong: [] });
      const ids = Buffer.from(result.csv)
        .toString('utf8')
        .trimEnd()
        .split('\n')
        .map((row) => row.slice(0, 36));
      const parse = compileLogFormat(COMBINED);
      const idOf = await lineIds(scheme);
      // Each line's id from that line alone (its own bytes, no CR), not from the chunk.
      const expected = lines.flatMap((line, i) => {
        const record = parse(line);
        const own = Buffer.from(line);
        return 'error' in record
          ? []
          : [idOf(record.ts, 'semicomplete.com', i + 1, line, own, 0, own.length)];
      });
      expect(ids.length).toBeGreaterThan(9_000);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(expected);
    },
  );

  it('are the same CSV line whether the pipeline is memoised or not on crafted lines', async () => {
    await expectSameRows(CRAFTED);
  });
});

/** The row CSV line of a result, or its drop. */
function outcomeText(result: PipelineResult): string {
  return result.kind === 'drop' ? `drop:${result.reason}` : rowCsvLine(result.value);
}

async function expectSameRows(lines: string[]): Promise<void> {
  const parse = compileLogFormat(COMBINED);
  const [memoCtx, plainCtx, counts] = await contexts();
  // The importer's memo, and one so small that it is cleared again and again.
  const memoised = [importPipeline(), new Pipeline(PIPELINE_STEPS, { memo: 16 })];
  const plain = new Pipeline(PIPELINE_STEPS);
  const outcomes: Record<string, number> = {};
  for (const site of config.sites) {
    for (const [index, text] of lines.entries()) {
      const record = parse(text);
      if ('error' in record) continue;
      const id = sha256LineId(record.ts, site.host, index + 1, text);
      const slow = outcomeText(await plain.run(rawOfRecord(record, site), site, plainCtx, id));
      for (const pipeline of memoised) {
        const fast = outcomeText(await pipeline.run(rawOfRecord(record, site), site, memoCtx, id));
        expect(fast, `${site.host} line ${index + 1}`).toBe(slow);
      }
      const outcome = slow.startsWith('drop:') ? slow : 'row';
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
  }
  // Findings are counted for every line, memoised or not (twice for the two memoised pipelines).
  expect(Object.fromEntries(Object.entries(counts[0]!).map(([k, n]) => [k, n / 2]))).toEqual(counts[1]);
  // Both kinds of outcome and some findings happened: the comparison covered them.
  expect(outcomes.row).toBeGreaterThan(0);
  expect(Object.keys(outcomes).length).toBeGreaterThan(1);
  expect(Object.keys(counts[0]!).length).toBeGreaterThan(0);
}

describe('a new pipeline step', () => {
  it.skipIf(!HAS_SHARED_DATA)(
    'costs an import one run per distinct value of what it reads, on the real log (../shared/data)',
    async () => {
      const lines = readFileSync(sharedData('logs', 'apache_combined.log'), 'utf8')
        .split('\n')
        .filter(Boolean);
      let runs = 0;
      // A step the importer was never told about: it reads the User-Agent and sets the OS.
      const added: Step = {
        name: 'putOsShout',
        reads: ['userAgent'],
        run: ({ raw }) => {
          runs++;
          return set({ os: raw.userAgent.length > 0 ? 'SHOUT' : null });
        },
      };
      const pipeline = importPipeline([...PIPELINE_STEPS, added]);
      const [ctx] = await contexts();
      const site = config.sites[0]!;
      const parse = compileLogFormat(COMBINED);
      const agents = new Set<string>();
      let rows = 0;
      for (const [index, text] of lines.entries()) {
        const record = parse(text);
        if ('error' in record || record.kind !== 'http') continue;
        const result = await pipeline.run(rawOfRecord(record, site), site, ctx, String(index));
        if (result.kind === 'ok') {
          rows++;
          agents.add(record.userAgent);
          expect(result.value.os).toBe(record.userAgent.length > 0 ? 'SHOUT' : null);
        }
      }
      expect(rows).toBeGreaterThan(9_000);
      // About 560 distinct User-Agents for ~10,000 lines: once each, not once per line.
      expect(runs).toBe(agents.size);
      expect(runs).toBeLessThan(rows / 5);
    },
  );
});
