import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { startChild } from '../child.js';
import { readEvents, tempDir } from '../helpers.js';
import { stopChild } from './load.js';

// A bounded, seeded fuzz of the collect endpoint (and, lightly, every other route): mutated
// bodies, headers and paths. Wanted: no 5xx, no crash, and every event of every 2xx answer in
// the store, exactly once.
const REQUESTS = Number(process.env.BALISE_FUZZ_REQUESTS ?? 200_000);
const temp = tempDir();
afterAll(() => temp.cleanup());

/** A small, seeded PRNG (mulberry32): the same run every time. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const letters = (n: number, width = 1): string => {
  let text = '';
  do {
    text = String.fromCharCode(97 + (n % 26)) + text;
    n = Math.floor(n / 26);
  } while (n > 0 || text.length < width);
  return text;
};
const check = (n: number): string => letters(Math.imul(n, 2654435761) >>> 0, 3).slice(-3);

/**
 * A marker of letters only (nothing a DLP could take for personal data): `zq`, base-26 of n, `x`
 * and three check letters — a marker a mutation changed is recognised as such (1 in 17,576 is not).
 */
function marker(n: number): string {
  return `zq${letters(n)}x${check(n)}`;
}

/** The number of a marker whose check letters hold, else undefined. */
function markerNumber(text: string): number | undefined {
  const match = /^zq([a-z]+)x([a-z]{3})$/.exec(text);
  if (!match) return undefined;
  let n = 0;
  for (const c of match[1]!) n = n * 26 + c.charCodeAt(0) - 97;
  return check(n) === match[2] ? n : undefined;
}

const NASTY = [
  '\\ud800',
  '\\udfff',
  '\\ud83d',
  '\\u0000',
  '\\uFFFE',
  '\\u2028',
  '\\"',
  '\\\\',
  '<script>alert(1)</script>',
  "'; DROP TABLE events; --",
  '%00',
  '%2540',
  '😀',
  'é',
  '\u202e',
  'jean.dupont@example.fr',
  '+33 6 12 34 56 78',
  'x'.repeat(5000),
];
const KEYS = ['__proto__', 'constructor', 'prototype', 'toString', '', ' ', 'a'.repeat(300)];
const TYPES = ['pageview', 'track', 'ecommerce', 'event', 'identify', '', 'PAGEVIEW'];

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)]!;
}

/** A valid event (as the client script sends it) carrying `mark` in its payload. */
function validEvent(rand: () => number, mark: string): Record<string, unknown> {
  const r = rand();
  if (r < 0.5)
    return {
      eventType: 'pageview',
      location: `https://www.example.fr/a/${Math.floor(rand() * 50)}?q=${Math.floor(rand() * 9)}#h`,
      title: `Article ${Math.floor(rand() * 100)}`,
      referer: rand() < 0.5 ? 'https://news.example.org/x' : '',
      payload: { m: mark },
    };
  if (r < 0.8)
    return {
      eventType: 'track',
      name: 'signup',
      location: 'https://www.example.fr/signup',
      payload: { m: mark, plan: 'pro', n: Math.floor(rand() * 1000) },
    };
  return {
    eventType: 'ecommerce',
    name: 'Order Completed',
    location: 'https://www.example.fr/checkout',
    payload: { m: mark, revenue: 42.5, currency: 'EUR' },
  };
}

/** Mutates a JSON text: a nasty string spliced into a string value, a byte flipped, a cut, a nesting. */
function mutateText(rand: () => number, text: string): string {
  const r = rand();
  const at = Math.floor(rand() * text.length);
  if (r < 0.3) {
    // Into the title or a property value, keeping the JSON valid.
    const nasty = pick(rand, NASTY);
    return text.replace(/"title":"/, `"title":"${nasty}`).replace(/"plan":"/, `"plan":"${nasty}`);
  }
  if (r < 0.45) return text.slice(0, at) + String.fromCharCode(Math.floor(rand() * 128)) + text.slice(at + 1);
  if (r < 0.55) return text.slice(0, at);
  if (r < 0.62) return `${'['.repeat(200 + Math.floor(rand() * 2000))}1`;
  if (r < 0.7) return text.replace(/"payload":\{/, `"payload":{"${pick(rand, KEYS)}":{"x":1},`);
  if (r < 0.78) return text.replace(/"eventType":"[a-z]+"/, `"eventType":"${pick(rand, TYPES)}"`);
  if (r < 0.84)
    return text.replace(
      /"location":"[^"]*"/,
      `"location":${pick(rand, ['1', 'null', '"javascript:alert(1)"', '"https://evil.example/"', '"/relative"', '"https://www.example.fr/' + 'p'.repeat(3000) + '"'])}`,
    );
  if (r < 0.9)
    return text.replace(
      /"payload":\{/,
      `"payload":{"big":${pick(rand, ['1e999', '-0', '12345678901234567890123', '[' + '1,'.repeat(2000) + '1]', 'true'])},`,
    );
  return text;
}

interface Planned {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** One request: mostly collect (valid, mutated or batched), some to other routes. */
function plan(rand: () => number, n: number): Planned {
  const headers: Record<string, string> = { host: 'www.example.fr', 'content-type': 'text/plain' };
  const r = rand();
  if (r < 0.05) {
    const path = pick(rand, [
      '/balise/ui/constructor',
      '/balise/ui/__proto__',
      '/balise/ui/toString',
      '/balise/ui/app.js',
      '/balise/api/v1/series',
      '/balise/api/v1/egress?since=' + pick(rand, ['1h', 'forever', '%ff', '-1d']),
      '/balise/api/v1/detect/' + pick(rand, ['spikes', '__proto__', 'constructor', 'x']),
      '/balise/mc/www.example.fr/none/x',
      '/balise/healthz',
      '/balise/metrics',
      '/balise/%',
      '/balise/e/../ui',
    ]);
    const method = pick(rand, ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']);
    if (rand() < 0.5)
      headers.authorization = `Bearer ${pick(rand, ['bls_x', '', 'a'.repeat(2000), '\u00e9'])}`;
    return { method, path, headers, body: method === 'GET' || method === 'OPTIONS' ? undefined : '{"a":1}' };
  }
  const batch = rand() < 0.2;
  const events = Array.from({ length: batch ? 1 + Math.floor(rand() * 20) : 1 }, (_, i) =>
    validEvent(rand, marker(n * 64 + i)),
  );
  let body = JSON.stringify(batch ? { events } : events[0]);
  if (rand() < 0.6) body = mutateText(rand, body);
  const h = rand();
  if (h < 0.03) headers['content-type'] = 'application/json; charset=utf-16';
  else if (h < 0.05) headers['content-encoding'] = pick(rand, ['gzip', 'br', 'deflate, gzip']);
  else if (h < 0.07)
    headers.host = pick(rand, ['www.example.fr:evil.com', 'evil.example', '', 'www.example.fr:99999']);
  else if (h < 0.09)
    headers['content-type'] = pick(rand, ['application/xml', 'multipart/form-data', 'application/json']);
  else if (h < 0.1) headers.origin = pick(rand, ['https://evil.example', 'null', 'https://www.example.fr']);
  return { method: 'POST', path: '/balise/e', headers, body };
}

/** The markers of the events a body carries, as a JSON reader sees them (undefined: none readable). */
function markersOf(body: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return [];
  }
  const events = Array.isArray((value as { events?: unknown })?.events)
    ? (value as { events: unknown[] }).events
    : [value];
  const out: string[] = [];
  for (const event of events) {
    const m = (event as { payload?: { m?: unknown } } | null)?.payload?.m;
    // Markers a mutation changed are left out: another event may carry the same text.
    if (typeof m === 'string' && markerNumber(m) !== undefined) out.push(m);
  }
  return out;
}

describe('fuzz of the collect endpoint', () => {
  it(`answers ${REQUESTS.toLocaleString('en')} mutated requests with no 5xx and stores every event of every 2xx once`, async () => {
    const configPath = join(temp.dir, 'balise.yaml');
    writeFileSync(
      configPath,
      [
        'server: { host: 127.0.0.1, port: 0, node: fuzz, rateLimit: { perIpPerMinute: 100000000, perSitePerMinute: 100000000 } }',
        'store: { kind: duckdb, path: ./balise.duckdb, flushMs: 200, batchRows: 5000, maxPendingRows: 2000000 }',
        'sites: [{ host: www.example.fr, aliases: [127.0.0.1] }]',
      ].join('\n'),
    );
    const gateway = await startChild(configPath);
    let stderr = '';
    gateway.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    gateway.child.stdout!.on('data', (d: Buffer) => (stderr += d.toString()));
    const pool = new Pool(gateway.url, { connections: 16, pipelining: 1 });
    const rand = random(20261205);
    const statuses = new Map<number, number>();
    const fiveHundreds: string[] = [];
    const expected = new Set<string>();
    let next = 0;
    const started = Date.now();
    const worker = async () => {
      while (next < REQUESTS) {
        const n = next++;
        const request = plan(rand, n);
        let status = 0;
        try {
          const answer = await pool.request({
            method: request.method as 'POST',
            path: request.path,
            headers: request.headers,
            body: request.body,
          });
          await answer.body.dump();
          status = answer.statusCode;
        } catch {
          status = 0;
        }
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if ((status >= 500 || status === 0) && fiveHundreds.length < 20)
          fiveHundreds.push(
            `${status} ${request.method} ${request.path} ${JSON.stringify(request.headers)} ${request.body?.slice(0, 200)}`,
          );
        if (status >= 200 && status < 300 && request.path === '/balise/e' && request.body !== undefined)
          for (const m of markersOf(request.body)) expected.add(m);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    const seconds = (Date.now() - started) / 1000;
    await pool.close();
    expect(gateway.child.exitCode).toBeNull();
    expect(await stopChild(gateway.child)).toBe(0);

    const stored = new Map<string, number>();
    for (const row of await readEvents(temp.dir)) {
      const m = (JSON.parse(typeof row.props === 'string' ? row.props : '{}') as { m?: unknown }).m;
      if (typeof m === 'string' && markerNumber(m) !== undefined) stored.set(m, (stored.get(m) ?? 0) + 1);
    }
    const lost = [...expected].filter((m) => !stored.has(m));
    const duplicated = [...stored].filter(([, count]) => count > 1);
    console.log(
      `fuzz: ${REQUESTS} requests in ${seconds.toFixed(1)} s; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}; ` +
        `${expected.size} events acknowledged, ${stored.size} stored, ${lost.length} lost, ${duplicated.length} duplicated`,
    );
    expect(fiveHundreds).toEqual([]);
    expect(lost.slice(0, 10)).toEqual([]);
    expect(duplicated).toEqual([]);
    expect(expected.size).toBeGreaterThan(REQUESTS / 4);
    expect(stderr).not.toMatch(/internal/);
  }, 600_000);
});
