import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpTransport } from './transport.js';

let server: Server;
let base = '';
const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (req.url === '/big') res.end('x'.repeat(200_000));
      else if (req.url === '/redirect') res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
      else if (req.url === '/silent')
        return; // never answers
      else res.writeHead(202, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('outbox transport', () => {
  const send = httpTransport(4);

  it('sends the method, path with query, headers and body, and returns the status and answer', async () => {
    const answer = await send(
      {
        url: `${base}/mp/collect?measurement_id=G-1`,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-sig': 'abc' },
        body: '{"a":1}',
      },
      2000,
    );
    expect(answer).toEqual({ status: 202, body: '{"ok":true}' });
    const request = seen.find((r) => r.url === '/mp/collect?measurement_id=G-1')!;
    expect(request).toMatchObject({ method: 'POST', body: '{"a":1}' });
    expect(request.headers).toMatchObject({
      'content-type': 'application/json',
      'x-sig': 'abc',
      'content-length': '7',
    });
  });

  it('does not follow a redirect', async () => {
    expect(
      (await send({ url: `${base}/redirect`, method: 'GET', headers: {}, body: null }, 2000)).status,
    ).toBe(302);
    expect(seen.filter((r) => r.url === '/redirect')).toHaveLength(1);
  });

  it('keeps at most about 64 KiB of a long answer', async () => {
    const answer = await send({ url: `${base}/big`, method: 'GET', headers: {}, body: null }, 2000);
    expect(answer.status).toBe(200);
    expect(answer.body.length).toBeGreaterThan(0);
    expect(answer.body.length).toBeLessThan(200_000);
    expect(answer.body.length).toBeLessThanOrEqual(65_536 + 65_536);
  });

  it('gives up on a vendor that does not answer, saying so', async () => {
    const started = performance.now();
    await expect(
      send({ url: `${base}/silent`, method: 'POST', headers: {}, body: '{}' }, 300),
    ).rejects.toThrow(/TimeoutError: no answer within 300 ms/);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('refuses to connect where a name resolves to a private address, unless the operator listed it', async () => {
    // A name that the egress check may have seen public, resolving to loopback when connecting
    // (DNS rebinding): the connection itself is refused, and nothing reaches the server.
    const port = new URL(base).port;
    const rebinding = httpTransport(2, (_host, options, callback) => {
      if ((options as { all?: boolean }).all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
    });
    const request = { url: `http://vendor.example:${port}/rebound`, method: 'POST', headers: {}, body: '{}' };
    await expect(rebinding(request, 2000)).rejects.toThrow(
      /private address 127\.0\.0\.1 \(when connecting\)/,
    );
    expect(seen.some((r) => r.url === '/rebound')).toBe(false);
    // The same name listed by the operator (privateAllowed) connects.
    expect((await rebinding(request, 2000, true)).status).toBe(202);
    expect(seen.some((r) => r.url === '/rebound')).toBe(true);
  });

  it('rejects when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(
      send({ url: `http://127.0.0.1:${port}/`, method: 'GET', headers: {}, body: null }, 1000),
    ).rejects.toThrow();
  });
});
