import { constants, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/gateway.js';
import { trimTornTail } from '../src/store/append-file.js';
import { Journal } from '../src/tools/journal.js';
import { CHROME_UA, readEvents, startGateway, tempDir } from './helpers.js';

// "Never acknowledge and lose": every event answered 2xx is in the store, whatever its text.
let gateway: Gateway | undefined;
let temp: ReturnType<typeof tempDir>;

beforeEach(() => {
  temp = tempDir();
});
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
  temp.cleanup();
});

function post(body: string) {
  return gateway!.app.inject({
    method: 'POST',
    url: '/balise/e',
    headers: { host: 'www.example.fr', 'content-type': 'text/plain', 'user-agent': CHROME_UA },
    payload: body,
    remoteAddress: '203.0.113.9',
  });
}

async function storedTitles(): Promise<string[]> {
  await gateway!.close();
  gateway = undefined;
  return (await readEvents(temp.dir)).map((row) => String(row.title));
}

describe('text the store cannot read as it came', () => {
  it('stores an event whose title holds a lone surrogate, with U+FFFD in its place', async () => {
    gateway = await startGateway(temp.dir);
    // Written by hand: JSON.stringify would not produce the raw escapes a client can send.
    const response = await post(
      '{"eventType":"pageview","location":"https://www.example.fr/x","title":"a\\ud800b\\udc00c"}',
    );
    expect(response.statusCode).toBe(204);
    expect(await storedTitles()).toEqual(['a\uFFFDb\uFFFDc']);
  });

  it('keeps all 50 events of a batch when one of them holds a lone surrogate', async () => {
    gateway = await startGateway(temp.dir);
    const events = Array.from({ length: 50 }, (_, i) =>
      i === 17
        ? '{"eventType":"pageview","location":"https://www.example.fr/x","title":"\\udfff"}'
        : `{"eventType":"pageview","location":"https://www.example.fr/x","title":"t${i}"}`,
    );
    expect((await post(`{"events":[${events.join(',')}]}`)).statusCode).toBe(204);
    const titles = await storedTitles();
    expect(titles).toHaveLength(50);
    expect(titles).toContain('\uFFFD');
  });

  it('keeps NUL, non-characters and astral characters as they are', async () => {
    gateway = await startGateway(temp.dir);
    const title = 'a\u0000b\uFFFEcd😀';
    const response = await post(
      JSON.stringify({ eventType: 'pageview', location: 'https://www.example.fr/x', title }),
    );
    expect(response.statusCode).toBe(204);
    expect(await storedTitles()).toEqual([title]);
  });

  it('stores a segment an earlier version left with lone-surrogate escapes, setting unreadable lines aside', async () => {
    // What a previous version wrote before a crash: a row with a `\ud800` escape (its store
    // skipped it), a line no JSON reader takes, and a torn last line.
    const spool = join(temp.dir, 'balise.duckdb.spool');
    mkdirSync(spool, { recursive: true });
    const good = (id: string, title: string) =>
      JSON.stringify({
        id,
        ts: Date.UTC(2026, 5, 1),
        site: 'www.example.fr',
        type: 'pageview',
        name: null,
        path: '/',
        title,
        referrerHost: null,
        referrerClass: 'direct',
        country: null,
        region: null,
        asn: null,
        deviceType: 'desktop',
        browser: null,
        os: null,
        isBot: false,
        visitorHash: '1',
        sessionHash: '1',
        node: 'n',
        status: null,
        bytes: null,
        source: 'browser',
        props: null,
      });
    writeFileSync(
      join(spool, 'segment-000000000001.jsonl'),
      [
        good('00000000-0000-4000-8000-000000000001', 'fine'),
        good('00000000-0000-4000-8000-000000000002', 'a\ud800b'),
        '{"id": not json',
        good('00000000-0000-4000-8000-000000000003', 'torn').slice(0, 40),
      ].join('\n'),
    );
    const logged: string[] = [];
    const { createGateway } = await import('../src/gateway.js');
    const { testConfig } = await import('./helpers.js');
    gateway = await createGateway(testConfig(temp.dir), { logError: (line) => logged.push(line) });
    expect(gateway.replayed).toBe(2);
    expect(logged.join('\n')).toMatch(/spool_repaired: .* 1 unreadable lines moved to/);
    const rejected = readdirSync(spool).filter((name) => name.endsWith('.rejected'));
    expect(rejected).toHaveLength(1);
    expect(readFileSync(join(spool, rejected[0]!), 'utf8')).toBe('{"id": not json\n');
    expect((await storedTitles()).sort()).toEqual(['a\uFFFDb', 'fine']);
  });
});

describe('trimTornTail', () => {
  it('cuts what follows the last newline, and nothing from a file that ends with one', () => {
    const file = join(temp.dir, 'f.jsonl');
    writeFileSync(file, '{"a":1}\n{"b":2}\n{"c":');
    expect(trimTornTail(file)).toBe(5);
    expect(readFileSync(file, 'utf8')).toBe('{"a":1}\n{"b":2}\n');
    expect(trimTornTail(file)).toBe(0);
    writeFileSync(file, 'no newline at all');
    expect(trimTornTail(file)).toBe(17);
    expect(readFileSync(file, 'utf8')).toBe('');
  });
});

/** The open flags of this process's descriptors on files under `dir` (Linux: /proc/self/fdinfo). */
function openFlags(dir: string): number[] {
  const flags: number[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // the descriptor readdir itself used, closed since
    }
    if (!target.startsWith(dir)) continue;
    const line = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    flags.push(parseInt(line![1]!, 8));
  }
  return flags;
}

// An acknowledged append is on the disk: the spool's and the outbox journal's files are opened
// so that each write is synced before it returns (one call in the thread pool per group).
describe.skipIf(process.platform !== 'linux')('durable appends (Linux: read from /proc)', () => {
  it("opens the spool's segment with O_DSYNC: an event answered 204 was written by a synced write", async () => {
    // The segment stays open until the writer's next flush: a minute here, not the tests' 50 ms
    // (a loaded machine could seal it between the answer and the look at /proc).
    gateway = await startGateway(temp.dir, {
      store: { kind: 'duckdb', path: join(temp.dir, 'balise.duckdb'), flushMs: 60_000 },
    });
    expect((await post('{"eventType":"pageview","location":"https://www.example.fr/x"}')).statusCode).toBe(
      204,
    );
    const flags = openFlags(join(temp.dir, 'balise.duckdb.spool'));
    expect(flags).toHaveLength(1);
    expect(flags[0]! & constants.O_DSYNC).toBe(constants.O_DSYNC);
    expect(flags[0]! & constants.O_APPEND).toBe(constants.O_APPEND);
  });

  it('opens the outbox journal with O_DSYNC, and keeps its durable and lazy records', async () => {
    const journal = new Journal<{ n: number }>(join(temp.dir, 'journal', 'outbox.jsonl'));
    await journal.append({ n: 1 }, { n: 2 });
    journal.appendLazy({ n: 3 });
    await journal.append({ n: 4 });
    // A lazy record alone is written within 200 ms, by a write of its own.
    journal.appendLazy({ n: 5 });
    await new Promise((resolve) => setTimeout(resolve, 400));
    const [flags] = openFlags(join(temp.dir, 'journal'));
    expect(flags! & constants.O_DSYNC).toBe(constants.O_DSYNC);
    expect(journal.read()).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }, { n: 5 }]);
    await journal.close();
  });
});
