import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DELIVERY_FIELDS, type Delivery } from './delivery.js';
import { Journal } from './journal.js';
import type { OutboxRecord } from './ledger.js';
import { outboxCodec } from './outbox-line.js';

const dir = mkdtempSync(join(tmpdir(), 'balise-outbox-line-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A delivery with every field set (DELIVERY_FIELDS names them all), and its in-memory extras. */
function full(body: string | null): Delivery & { json?: unknown; nextAt?: number } {
  return {
    id: 'e1:hook:0',
    site: 'www.example.fr',
    tool: 'hook',
    eventId: 'e1',
    request: {
      url: 'https://hooks.example.eu/in?x=1',
      method: 'POST',
      headers: { 'content-type': 'application/json', json: '0' },
      body,
    },
    policy: 'hook region=eu query=strip ip=hide ua=reduce referrer=strip-external clientId=hashed dlp=mask',
    operatorHosts: ['127.0.0.1'],
    quoteAnswers: false,
    sealAtSend: true,
    createdAt: 1_765_000_000_000,
    attempts: 2,
    // in memory only: never written
    json: { parsed: true },
    nextAt: 5,
  };
}

const asJson = outboxCodec(() => true);
const asText = outboxCodec(() => false);

describe('the outbox journal line', () => {
  // Texts a JSON body can be that JSON.stringify(JSON.parse(text)) would not give back.
  const bodies = [
    '{"events":[{"id":"e1","title":"Article 12 — politique","n":12345678901234567890}]}',
    '{ "a" : [1, 2.50, "\\u00e9", "\\"quoted\\"", "é"], "b":{"c":null} }',
    '{"line":"a\\nb","sep":"\u2028"}',
  ];

  it('carries a JSON body unescaped and gives back its exact text, every field of the delivery, nothing in memory', () => {
    for (const body of bodies) {
      const line = asJson.encode({ op: 'add', delivery: full(body) });
      expect(line).toContain(`"body":${body},`);
      expect(() => JSON.parse(line) as unknown).not.toThrow();
      const record = asJson.decode(line);
      const { json: _j, nextAt: _n, ...written } = full(body);
      expect(record).toEqual({ op: 'add', delivery: written });
      expect(Object.keys((record as { delivery: Delivery }).delivery).sort()).toEqual(
        Object.keys(DELIVERY_FIELDS).sort(),
      );
    }
  });

  it('writes what a tool’s deliveries share once, and each delivery its own values when they differ', () => {
    const codec = outboxCodec(() => true);
    const base = full('{"events":[]}');
    const variants: Delivery[] = [
      base,
      { ...base, id: 'e2:hook:0', eventId: 'e2', attempts: 0 },
      {
        ...base,
        id: 'e3:hook:0',
        request: { ...base.request, headers: { 'content-type': 'application/json' } },
      },
      {
        ...base,
        id: 'e4:hook:0',
        request: { ...base.request, headers: { 'content-type': 'text/json', json: '0' } },
      },
      { ...base, id: 'e5:hook:0', request: { ...base.request, url: 'https://hooks.example.eu/other' } },
      { ...base, id: 'e6:hook:0', policy: 'hook region=any' },
      { ...base, id: 'e7:hook:0', quoteAnswers: true },
      { ...base, id: 'e8:hook:0', sealAtSend: false },
      { ...base, id: 'e9:hook:0', site: 'shop.example.fr' },
      { ...base, id: 'e10:hook:0', operatorHosts: [] },
      { ...base, id: 'e11:hook:0', request: { ...base.request, method: 'PUT' } },
      base,
    ];
    // Each right after the base: only the one difference tells it from what is cached.
    for (const delivery of variants) {
      codec.encode({ op: 'add', delivery: base });
      const { json: _j, nextAt: _n, ...written } = delivery as ReturnType<typeof full>;
      expect(codec.decode(codec.encode({ op: 'add', delivery }))).toEqual({ op: 'add', delivery: written });
    }
  });

  it('escapes a body that is not known to be JSON, or that holds a line break, and any other record as JSON', () => {
    const pretty = '{\n  "events": []\n}';
    for (const [codec, body] of [
      [asText, bodies[0]!],
      [asJson, pretty],
      [asText, 'v=2&tid=G-1'],
      [asJson, null],
    ] as const) {
      const line = codec.encode({ op: 'add', delivery: full(body) });
      expect(line).not.toContain('\n');
      expect(JSON.parse(line)).toMatchObject({ op: 'add', delivery: { request: { body } } });
      expect(codec.decode(line)).toMatchObject({ op: 'add', delivery: { request: { body } } });
    }
    const done: OutboxRecord = { op: 'dead', id: 'e1:hook:0', status: 400, message: 'bad "x"', at: 1 };
    expect(asJson.encode(done)).toBe(JSON.stringify(done));
    expect(asJson.decode(asJson.encode(done))).toEqual(done);
  });

  it('is read back by a journal, lines of both kinds mixed, a torn last line skipped', async () => {
    const path = join(dir, 'journal.jsonl');
    const codec = outboxCodec((d) => d.request.headers['content-type'] === 'application/json');
    const journal = new Journal<OutboxRecord>(path, codec);
    const texts = ['{"events":[1]}', 'plain text', '{"events":["—"]}'];
    await journal.append(
      ...texts.map((body, i): OutboxRecord => ({
        op: 'add',
        delivery: {
          ...full(body),
          id: `e${i}`,
          request: { ...full(body).request, headers: i === 1 ? {} : { 'content-type': 'application/json' } },
        },
      })),
      { op: 'done', id: 'e0' },
    );
    await journal.close();
    const lines = readFileSync(path, 'utf8');
    // A crash in the middle of a line: its append never resolved.
    appendFileSync(path, '{"op":"add","n":40,"body":{"events":[{"id":"e9"');
    const read = new Journal<OutboxRecord>(path, codec).read();
    expect(read.map((r) => (r.op === 'add' ? r.delivery.request.body : r.op))).toEqual([...texts, 'done']);
    // The two JSON adds' shared values once, before them; the plain one written whole.
    expect(lines.split('\n')).toHaveLength(6);
    expect(lines.match(/"op":"shared"/g)).toHaveLength(1);
    expect(lines).toContain('"body":{"events":["—"]},');
  });

  it('writes the values an append’s deliveries share once per tool, and reads every delivery back whole', async () => {
    const path = join(dir, 'shared.jsonl');
    const codec = outboxCodec(() => true);
    const journal = new Journal<OutboxRecord>(path, codec);
    const of = (tool: string, n: number, change: Partial<Delivery> = {}): Delivery => {
      const { json: _j, nextAt: _n, ...base } = full(`{"events":[{"n":${n}}]}`);
      return { ...base, id: `e${n}:${tool}:0`, eventId: `e${n}`, tool, attempts: 0, ...change };
    };
    const first = [
      ...Array.from({ length: 20 }, (_, n) => of('hook', n)),
      ...Array.from({ length: 20 }, (_, n) => of('ga4', n)),
      // Another URL for the same tool: shared values of their own.
      of('hook', 20, { request: { ...full(null).request, url: 'https://hooks.example.eu/b', body: '[]' } }),
    ];
    await journal.append(...first.map((delivery): OutboxRecord => ({ op: 'add', delivery })));
    // A second append whose deliveries share what the first one's did: written again, for itself.
    const second = [of('hook', 30), of('ga4', 30)];
    await journal.append(...second.map((delivery): OutboxRecord => ({ op: 'add', delivery })));
    // Appends of one turn are one write (the group commit): their shared values once.
    const third = [of('hook', 40), of('hook', 41)];
    await Promise.all(third.map((delivery) => journal.append({ op: 'add', delivery })));
    await journal.close();
    const text = readFileSync(path, 'utf8');
    expect(text.match(/"op":"shared"/g)).toHaveLength(6);
    expect(text.match(/"policy"/g)).toHaveLength(6);
    const read = new Journal<OutboxRecord>(
      path,
      outboxCodec(() => true),
    ).read();
    expect(read).toEqual([...first, ...second, ...third].map((delivery) => ({ op: 'add', delivery })));
    // Each read delivery has a request of its own.
    const [a, b] = read as { delivery: Delivery }[];
    expect(a!.delivery.request).not.toBe(b!.delivery.request);
    expect(a!.delivery.request.headers).not.toBe(b!.delivery.request.headers);
    // Less than two thirds of the bytes each add written whole takes.
    const whole = [...first, ...second, ...third]
      .map((delivery) => codec.encode({ op: 'add', delivery }) + '\n')
      .join('');
    expect(text.length).toBeLessThan((whole.length * 2) / 3);
  });

  it('reads the lines an earlier version wrote (each add whole), and a compaction back as it was', async () => {
    const path = join(dir, 'mixed.jsonl');
    const codec = outboxCodec(() => true);
    const { json: _j, nextAt: _n, ...old } = full('{"events":[1]}');
    // An earlier version's line: the whole delivery on the add's own line.
    appendFileSync(path, `${codec.encode({ op: 'add', delivery: old })}\n`);
    const journal = new Journal<OutboxRecord>(path, codec);
    const fresh: Delivery = { ...old, id: 'e2:hook:0', eventId: 'e2' };
    await journal.append({ op: 'add', delivery: fresh }, { op: 'done', id: 'e9' });
    const expected: OutboxRecord[] = [
      { op: 'add', delivery: old },
      { op: 'add', delivery: fresh },
      { op: 'done', id: 'e9' },
    ];
    expect(
      new Journal<OutboxRecord>(
        path,
        outboxCodec(() => true),
      ).read(),
    ).toEqual(expected);
    // Compacted in runs: 600 adds, their shared values written with each run.
    const many = Array.from({ length: 600 }, (_, n): OutboxRecord => ({
      op: 'add',
      delivery: { ...old, id: `m${n}:hook:0`, eventId: `m${n}` },
    }));
    await journal.rewrite(() => many);
    await journal.close();
    expect(readFileSync(path, 'utf8').match(/"op":"shared"/g)).toHaveLength(3);
    expect(
      new Journal<OutboxRecord>(
        path,
        outboxCodec(() => true),
      ).read(),
    ).toEqual(many);
  });
});
