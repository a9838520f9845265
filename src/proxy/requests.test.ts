import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import type { SiteConfig } from '../config/schema.js';
import { GeoLookup } from '../enrich/geo.js';
import { BaliseError } from '../errors.js';
import type { PipelineContext, RawEvent } from '../pipeline/event.js';
import { Pipeline } from '../pipeline/runner.js';
import { PIPELINE_STEPS } from '../pipeline/steps.js';
import { VisitorHasher, type SaltSource } from '../privacy/visitor-hash.js';
import type { EventRow } from '../store/row.js';
import type { SpoolLines } from '../store/spool.js';
import type { DurableWriter } from '../store/writer.js';
import { niceness, threadId, threadsAtNiceness } from '../../test/thread-niceness.js';
import { RECORDING_NICENESS } from './record-protocol.js';
import { RequestRecorder } from './requests.js';

const sites = parseConfig(
  {
    sites: [
      { host: 'www.example.fr', proxy: { upstream: 'http://127.0.0.1:9' } },
      {
        host: 'report.example',
        proxy: { upstream: 'http://127.0.0.1:9' },
        privacy: { profile: 'custom', dlp: 'report' },
      },
    ],
  },
  { env: {} },
).sites;
const now = Date.UTC(2026, 11, 7, 6, 0, 0);
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

/** A proxied request's event, as proxy.ts makes it. */
function request(path: string, overrides: Partial<RawEvent> = {}): RawEvent {
  return {
    type: 'request',
    name: null,
    url: `https://www.example.fr${path}`,
    title: null,
    referrer: 'https://news.example.com/story?id=7',
    clientTimestamp: null,
    props: { method: 'GET', duration_ms: 12 },
    ip: '1.1.1.1',
    userAgent: IPHONE,
    receivedAt: now,
    source: 'proxy',
    status: 200,
    bytes: 11_000,
    node: '127.0.0.1:9000',
    ...overrides,
  };
}

/** A recorder whose writer keeps what it is given; the store's salts from `salts`. */
async function recorder(salts: SaltSource, refuse = false) {
  const written: SpoolLines[] = [];
  const writer = {
    write: (lines: SpoolLines) => {
      if (refuse) return Promise.reject(new BaliseError('overloaded', 'the gateway is catching up'));
      written.push(lines);
      return Promise.resolve();
    },
  } as unknown as DurableWriter;
  const counters = {
    dropped: {} as Record<string, number>,
    findings: {} as Record<string, Record<string, number>>,
  };
  const logged: string[] = [];
  const geo = await GeoLookup.load();
  const recording = new RequestRecorder({
    writer,
    salts,
    start: { geo, geoFiles: {}, node: 'gw-1' },
    counters,
    logError: (line) => logged.push(line),
  });
  return { recording, written, counters, logged, geo };
}

const fixedSalts = (salt: Buffer): SaltSource & { asked: string[] } => {
  const asked: string[] = [];
  return {
    asked,
    ensureSalt: (day) => {
      asked.push(day);
      return Promise.resolve(salt);
    },
  };
};

describe('RequestRecorder', () => {
  it('makes, in a thread of its own, the rows this thread’s pipeline makes', async () => {
    const salts = fixedSalts(randomBytes(32));
    const { recording, written, counters, logged, geo } = await recorder(salts);
    const events: [number, RawEvent][] = [
      [0, request('/a?session=abc')],
      [0, request('/b', { ip: '2a00:1450:4007:80e::200e', status: 404 })],
      [0, request('/c?utm_content=jean.dupont%40example.fr')],
      [1, request('/r', { url: 'https://report.example/r' })],
      [0, request('/d', { url: 'not a url' })],
    ];
    const niced = () => (process.platform === 'linux' ? threadsAtNiceness(RECORDING_NICENESS) : 0);
    const nicedBefore = niced();
    let nicedWhileRecording = 0;
    try {
      for (const [site, raw] of events) recording.record(sites[site]!, raw);
      await recording.flush();
      nicedWhileRecording = niced();
    } finally {
      await recording.close();
    }
    // The recording thread runs niced (unless this process already is), and is gone once closed.
    if (process.platform === 'linux' && niceness(threadId()) < RECORDING_NICENESS)
      expect([nicedBefore, nicedWhileRecording, niced()]).toEqual([0, 1, 0]);
    const rows = written.flatMap((lines) =>
      lines.text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as EventRow),
    );
    expect(written.flatMap((lines) => lines.ts)).toEqual(rows.map((row) => row.ts));
    // The same pipeline in this thread, with the same geolocation and the same day's salt.
    const hasher = new VisitorHasher(salts);
    const lookup = GeoLookup.fromData(geo);
    const context: PipelineContext = {
      node: 'gw-1',
      geo: (ip) => lookup.lookup(ip),
      visitorHash: (site, ip, ua, ts) => hasher.hash(site.host, site.timezone, ip, ua, ts),
      countFinding: () => undefined,
    };
    const expected: EventRow[] = [];
    for (const [site, raw] of events) {
      const result = await new Pipeline(PIPELINE_STEPS).run(raw, sites[site]!, context);
      if (result.kind === 'ok') expected.push(result.value);
    }
    expect(rows).toHaveLength(4);
    expect(rows.map(({ id: _, ...row }) => row)).toEqual(expected.map(({ id: _, ...row }) => row));
    expect(rows.every((row) => /^[0-9a-f-]{36}$/.test(row.id))).toBe(true);
    expect(rows[0]).toMatchObject({
      path: '/a',
      status: 200,
      country: 'US',
      deviceType: 'mobile',
      node: '127.0.0.1:9000',
    });
    expect(rows[0]!.visitorHash).toMatch(/^\d+$/);
    expect(JSON.stringify(rows)).not.toMatch(/1\.1\.1\.1|2a00:1450|session=abc|jean\.dupont|iPhone OS/);
    // What the thread counted reaches the gateway's counters; the salt was asked once.
    expect(counters.dropped).toEqual({ invalid: 1 });
    // A request that ends once the recorder is closed (the gateway stopping) starts no thread.
    recording.record(sites[0]!, request('/late'));
    await recording.flush();
    expect(counters.dropped).toEqual({ invalid: 1, proxy_unrecorded: 1 });
    expect(written.flatMap((lines) => lines.ts)).toHaveLength(4);
    expect(counters.findings).toEqual({ 'www.example.fr': { email: 1 } });
    expect(salts.asked.length).toBeGreaterThanOrEqual(1);
    expect(logged).toEqual([]);
  });

  it('counts as dropped, and says, what it could not record or write', async () => {
    const failing = await recorder({ ensureSalt: () => Promise.reject(new Error('store away')) });
    try {
      failing.recording.record(sites[0]!, request('/a'));
      failing.recording.record(sites[0]!, request('/b'));
      await failing.recording.flush();
    } finally {
      await failing.recording.close();
    }
    expect(failing.written).toEqual([]);
    expect(failing.counters.dropped).toEqual({ proxy_unrecorded: 2 });
    expect(failing.logged.join('\n')).toMatch(/2 request events not recorded: store away/);

    const refused = await recorder(fixedSalts(randomBytes(32)), true);
    try {
      refused.recording.record(sites[0]!, request('/a'));
      await refused.recording.flush();
    } finally {
      await refused.recording.close();
    }
    expect(refused.counters.dropped).toEqual({ proxy_overloaded: 1 });

    // A batch that cannot be posted (a site holding something not plain data) is dropped and
    // said; the next batch is recorded.
    const uncloneable = await recorder(fixedSalts(randomBytes(32)));
    try {
      uncloneable.recording.record({ ...sites[0]!, odd: () => 1 } as unknown as SiteConfig, request('/a'));
      await uncloneable.recording.flush();
      uncloneable.recording.record(sites[0]!, request('/b'));
      await uncloneable.recording.flush();
    } finally {
      await uncloneable.recording.close();
    }
    expect(uncloneable.counters.dropped).toEqual({ proxy_unrecorded: 1 });
    expect(uncloneable.logged.join('\n')).toMatch(/1 request events not recorded: .*could not be cloned/);
    expect(uncloneable.written.map((lines) => lines.ts.length)).toEqual([1]);

    // A request that ends while close writes the last ones is dropped, and no thread starts again.
    const closing = await recorder(fixedSalts(randomBytes(32)));
    closing.recording.record(sites[0]!, request('/a'));
    const closed = closing.recording.close();
    closing.recording.record(sites[0]!, request('/b'));
    await closed;
    await new Promise((resolve) => setTimeout(resolve, 400)); // past the batch timer
    expect(closing.written.map((lines) => lines.ts.length)).toEqual([1]);
    expect(closing.counters.dropped).toEqual({ proxy_unrecorded: 1 });
    if (process.platform === 'linux' && niceness(threadId()) < RECORDING_NICENESS)
      expect(threadsAtNiceness(RECORDING_NICENESS)).toBe(0);
  });
});
