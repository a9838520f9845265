import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/gateway.js';
import { CHROME_UA, pageview, startGateway, tempDir } from './helpers.js';

let gateway: Gateway;
let temp: ReturnType<typeof tempDir>;

beforeEach(async () => {
  temp = tempDir();
  gateway = await startGateway(temp.dir, {
    store: { kind: 'duckdb', maxPendingRows: 1000, flushMs: 60_000, batchRows: 1_000_000 },
  });
});
afterEach(async () => {
  await gateway.close();
  temp.cleanup();
});

function post(payload: string | Buffer, headers: Record<string, string> = {}) {
  return gateway.app.inject({
    method: 'POST',
    url: '/balise/e',
    headers: { host: 'www.example.fr', 'content-type': 'text/plain', 'user-agent': CHROME_UA, ...headers },
    payload,
    remoteAddress: '203.0.113.5',
  });
}

const codeOf = (response: { json: () => unknown }) =>
  (response.json() as { error: { code: string } }).error.code;

describe('requests that used to get a 500, or were read wrongly', () => {
  it('refuses a body nested 1,000 levels with 400 too_deep; brackets inside strings do not count', async () => {
    const deep = await post(
      `{"eventType":"pageview","location":"https://www.example.fr/","payload":{"a":${'['.repeat(1000)}${']'.repeat(1000)}}}`,
    );
    expect(deep.statusCode).toBe(400);
    expect(codeOf(deep)).toBe('too_deep');
    const bare = await post('['.repeat(60_000));
    expect(bare.statusCode).toBe(400);
    const fine = await post(
      `{"eventType":"pageview","location":"https://www.example.fr/","title":"${'['.repeat(100)}","payload":{"a":${'['.repeat(3)}${']'.repeat(3)}}}`,
    );
    expect(fine.statusCode).toBe(204);
  });

  it('answers 404 for dashboard files named like Object members', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      const response = await gateway.app.inject({ method: 'GET', url: `/balise/ui/${name}` });
      expect([name, response.statusCode]).toEqual([name, 404]);
    }
  });

  it('refuses an encoded body (415) and a charset other than UTF-8 (415) instead of misreading them', async () => {
    const gzip = await post(JSON.stringify(pageview()), { 'content-encoding': 'gzip' });
    expect([gzip.statusCode, codeOf(gzip)]).toEqual([415, 'unsupported_content_encoding']);
    const utf16 = await post(Buffer.from(JSON.stringify(pageview()), 'utf16le'), {
      'content-type': 'application/json; charset=utf-16',
    });
    expect([utf16.statusCode, codeOf(utf16)]).toEqual([415, 'unsupported_charset']);
    expect(
      (await post(JSON.stringify(pageview()), { 'content-type': 'application/json; charset=UTF-8' }))
        .statusCode,
    ).toBe(204);
    expect((await post(JSON.stringify(pageview()), { 'content-encoding': 'identity' })).statusCode).toBe(204);
  });

  it('refuses a Host with a second name after the colon', async () => {
    const response = await post(JSON.stringify(pageview()), { host: 'www.example.fr:evil.com' });
    expect([response.statusCode, codeOf(response)]).toEqual([403, 'unknown_site']);
  });

  it('marks API and health answers nosniff and no-store; the client script stays cacheable', async () => {
    for (const url of [
      '/balise/api/v1/openapi.json',
      '/balise/healthz',
      '/balise/api/v1/series',
      '/balise/nowhere',
    ]) {
      const response = await gateway.app.inject({ method: 'GET', url });
      expect([url, response.headers['x-content-type-options'], response.headers['cache-control']]).toEqual([
        url,
        'nosniff',
        'no-store',
      ]);
    }
    const script = await gateway.app.inject({ method: 'GET', url: '/balise/s.js' });
    expect(script.headers['cache-control']).toBe('public, max-age=3600');
  });

  it('never lets concurrent requests take the backlog past maxPendingRows', async () => {
    const batch = JSON.stringify({ events: Array.from({ length: 7 }, () => pageview()) });
    const answers = await Promise.all(Array.from({ length: 200 }, () => post(batch)));
    const accepted = answers.filter((a) => a.statusCode === 204).length;
    expect(answers.every((a) => a.statusCode === 204 || a.statusCode === 503)).toBe(true);
    expect(answers.filter((a) => a.statusCode === 503).every((a) => a.headers['retry-after'] === '1')).toBe(
      true,
    );
    expect(gateway.writer.pendingRows).toBe(accepted * 7);
    expect(gateway.writer.pendingRows).toBeLessThanOrEqual(1000);
    expect(accepted).toBe(142);
  });
});

describe('a reverse proxy the configuration does not trust', () => {
  it('is reported once, without the peer’s address', async () => {
    const dir = tempDir();
    const logged: string[] = [];
    const { createGateway } = await import('../src/gateway.js');
    const { testConfig } = await import('./helpers.js');
    const proxied = await createGateway(testConfig(dir.dir), { logError: (line) => logged.push(line) });
    try {
      for (let i = 0; i < 3; i++)
        await proxied.app.inject({
          method: 'POST',
          url: '/balise/e',
          headers: {
            host: 'www.example.fr',
            'content-type': 'text/plain',
            'x-forwarded-for': '198.51.100.7',
          },
          payload: JSON.stringify(pageview()),
          remoteAddress: '10.1.2.3',
        });
      const warnings = logged.filter((line) => line.startsWith('untrusted_proxy'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).not.toContain('10.1.2.3');
      expect(warnings[0]).not.toContain('198.51.100.7');
      const health = (await proxied.app.inject({ method: 'GET', url: '/balise/healthz' })).json<{
        status: string;
        problems: string[];
      }>();
      expect(health).toMatchObject({ status: 'ok', problems: ['untrusted_proxy'] });
    } finally {
      await proxied.close();
      dir.cleanup();
    }
  });

  it('is counted when a second, unlisted proxy sits in front of a listed one, and not for the listed one', async () => {
    const dir = tempDir();
    const { createGateway } = await import('../src/gateway.js');
    const { testConfig } = await import('./helpers.js');
    const proxied = await createGateway(
      testConfig(dir.dir, { server: { node: 'test-node', trustedProxies: ['10.0.0.0/8'] } }),
    );
    const send = (remoteAddress: string) =>
      proxied.app.inject({
        method: 'POST',
        url: '/balise/e',
        headers: { host: 'www.example.fr', 'content-type': 'text/plain', 'x-forwarded-for': '198.51.100.7' },
        payload: JSON.stringify(pageview()),
        remoteAddress,
      });
    try {
      expect((await send('10.1.2.3')).statusCode).toBe(204);
      expect(
        proxied.writer && (await proxied.app.inject({ method: 'GET', url: '/balise/healthz' })).json(),
      ).toMatchObject({
        problems: [],
      });
      expect((await send('172.16.0.9')).statusCode).toBe(204);
      expect((await proxied.app.inject({ method: 'GET', url: '/balise/healthz' })).json()).toMatchObject({
        problems: ['untrusted_proxy'],
      });
    } finally {
      await proxied.close();
      dir.cleanup();
    }
  });
});

describe('connections the server closes by itself', () => {
  it('closes a silent connection after idleTimeoutMs and a kept-alive one after keepAliveTimeoutMs', async () => {
    const dir = tempDir();
    const { createGateway } = await import('../src/gateway.js');
    const { testConfig } = await import('./helpers.js');
    const { connect } = await import('node:net');
    const served = await createGateway(
      testConfig(dir.dir, {
        server: { node: 'test-node', limits: { idleTimeoutMs: 3000, keepAliveTimeoutMs: 300 } },
      }),
    );
    try {
      await served.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = served.app.server.address() as { port: number };
      /** How long the server keeps a connection that sends `first` (or nothing). */
      const lifetime = (first?: string) =>
        new Promise<number>((resolve) => {
          const started = Date.now();
          const socket = connect(port, '127.0.0.1', () => {
            if (first) socket.write(first);
          });
          socket.on('data', () => undefined);
          socket.on('close', () => resolve(Date.now() - started));
        });
      const silent = await lifetime();
      expect(silent).toBeGreaterThanOrEqual(2900);
      expect(silent).toBeLessThan(8000);
      const kept = await lifetime('GET /balise/healthz HTTP/1.1\r\nHost: www.example.fr\r\n\r\n');
      // Node closes it at keepAliveTimeoutMs, give or take its one-second check.
      expect(kept).toBeLessThan(2500);
    } finally {
      await served.close();
      dir.cleanup();
    }
  });
});
