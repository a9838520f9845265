import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { hashToken } from '../src/api/auth.js';
import type { Gateway } from '../src/gateway.js';
import { readEvents, startGateway, tempDir, until } from './helpers.js';

// Proxy mode over real sockets: an origin of our own behind the gateway, every answer checked
// byte for byte (the script added to HTML, nothing else changed), failures, WebSockets, a second
// upstream taking over, and each request stored as an event of type `request`.
const temp = tempDir('balise-proxy-');
const HOST = 'www.proxied.test';
const TOKEN = 'bls_test_token_for_proxy_1234567890';
const TAG = '<script async src="/balise/s.js"></script>';
const PAGE =
  '<!doctype html><html><head><meta charset="utf-8"><title>Café</title></head><body><p>é</p></body></html>';
const BINARY = randomBytes(64 * 1024);
let origin: Server;
let backup: Server;
let originUrl: string;
let backupUrl: string;
let gateway: Gateway;
let port: number;
const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
const backupSeen: string[] = [];
// A large page sent in pieces as fast as the reader takes them: how much the origin wrote, and
// whether its answer was cut off (the reader gone).
const BIG_PIECE = Buffer.alloc(64 * 1024, 'x');
const BIG_PIECES = 1024; // 64 MiB, read whole
// 512 MiB for the reader that stops: more than the sockets on its way can hold where the kernel
// lets each receive buffer grow to 32 MiB (tcp_rmem), so backpressure has to stop the origin.
const HUGE_PIECES = 8192;
const big = { written: 0, cutOff: false, done: Promise.resolve() };

/** Writes the large page's pieces, with the writer's pace. */
function sendBig(res: import('node:http').ServerResponse, pieces: number): void {
  big.written = 0;
  big.cutOff = false;
  big.done = new Promise((resolve) => {
    res.once('close', () => {
      big.cutOff = !res.writableFinished;
      resolve();
    });
    res.writeHead(200, { 'content-type': 'text/html' });
    res.write('<html><head><title>big</title></head><body>');
    const next = () => {
      while (big.written < pieces && !res.destroyed) {
        big.written++;
        if (!res.write(BIG_PIECE)) return void res.once('drain', next);
      }
      if (!res.destroyed) res.end('</body></html>');
    };
    next();
  });
}

function startOrigin(onRequest: (url: string) => void): Promise<Server> {
  const server = createServer((req, res) => {
    // The gateway's health checks are not the traffic under test.
    if (req.headers['user-agent'] !== 'balise-health-check') {
      seen.push({ url: req.url ?? '', headers: req.headers });
      onRequest(req.url ?? '');
    }
    const html = (body: string | Buffer, extra: Record<string, string> = {}) =>
      res
        .writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'max-age=60',
          'content-length': String(Buffer.byteLength(body)),
          ...extra,
        })
        .end(body);
    switch (req.url?.split('?')[0]) {
      case '/':
        return html(PAGE, { 'set-cookie': 'session=abc; HttpOnly' });
      case '/gz':
        return html(gzipSync(PAGE), { 'content-encoding': 'gzip' });
      case '/badgz':
        return html(Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' });
      case '/br':
        return html(brotliCompressSync(PAGE), { 'content-encoding': 'br' });
      case '/has':
        return html(PAGE.replace('</head>', `${TAG}</head>`));
      case '/csp':
        return html(PAGE, { 'content-security-policy': "script-src 'self' 'nonce-r4nd0m'" });
      case '/big':
        return sendBig(res, BIG_PIECES);
      case '/huge':
        return sendBig(res, HUGE_PIECES);
      case '/bin':
        return res
          .writeHead(200, {
            'content-type': 'application/octet-stream',
            'content-length': String(BINARY.length),
          })
          .end(BINARY);
      case '/404':
        return res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
      case '/500':
        return res.writeHead(500, { 'content-type': 'text/plain' }).end('broken');
      case '/slow':
        return setTimeout(() => res.end('late'), 1500);
      case '/later':
        return setTimeout(() => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE), 300);
      case '/close':
        return req.socket.destroy();
      case '/echo':
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        return req.pipe(res);
      default:
        return res.writeHead(200, { 'content-type': 'text/plain' }).end(`path ${req.url}`);
    }
  });
  new WebSocketServer({ server }).on('connection', (socket) =>
    socket.on('message', (data) => socket.send(`echo ${(data as Buffer).toString()}`)),
  );
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function get(
  path: string,
  options: { method?: string; host?: string; body?: Buffer; headers?: Record<string, string> } = {},
) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: { host: options.host ?? HOST, ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

beforeAll(async () => {
  origin = await startOrigin(() => undefined);
  backup = await startOrigin((url) => backupSeen.push(url));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  backupUrl = `http://127.0.0.1:${(backup.address() as AddressInfo).port}`;
  gateway = await startGateway(temp.dir, {
    sites: [
      { host: HOST, proxy: { upstream: originUrl, timeoutMs: 1000 } },
      {
        host: 'www.failover.test',
        proxy: { upstream: [originUrl, backupUrl], healthCheck: { intervalMs: 500, timeoutMs: 300 } },
      },
      {
        host: 'www.guarded.test',
        proxy: { upstream: originUrl, protect: { perPrefix: { rate: 1, burst: 3 } } },
      },
      { host: 'www.example.fr' },
    ],
    admin: { tokens: [hashToken(TOKEN)] },
  });
  await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  port = (gateway.app.server.address() as AddressInfo).port;
});

afterAll(async () => {
  await gateway.close();
  origin.close();
  backup.close();
  temp.cleanup();
});

describe('proxy mode', () => {
  it('adds the script to HTML before </head>, once, and changes no other byte or header', async () => {
    const page = await get('/?utm_source=x');
    expect(page.status).toBe(200);
    expect(page.body.toString('utf8')).toBe(PAGE.replace('</head>', `${TAG}</head>`));
    expect(page.headers['cache-control']).toBe('max-age=60');
    expect(page.headers['set-cookie']).toEqual(['session=abc; HttpOnly']);
    expect(page.headers.via).toBe('1.1 balise');
    // Its length: the origin's, grown by the tag's (the answer is not sent chunked).
    expect(page.headers['content-length']).toBe(String(Buffer.byteLength(PAGE) + TAG.length));
    expect(page.headers['transfer-encoding']).toBeUndefined();
    const asked = seen.find((s) => s.url === '/?utm_source=x')!;
    expect(asked.headers).toMatchObject({
      host: HOST,
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-host': HOST,
      via: '1.1 balise',
    });
    // gzip and br come back in their encoding; a page with the script is left alone; a CSP nonce is used.
    const gz = await get('/gz', { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['content-length']).toBeUndefined();
    expect(gunzipSync(gz.body).toString()).toBe(PAGE.replace('</head>', `${TAG}</head>`));
    // A page whose gzip is broken: the client's answer is cut off, not left waiting.
    await expect(get('/badgz', { headers: { 'accept-encoding': 'gzip' } })).rejects.toThrow();
    const br = await get('/br', { headers: { 'accept-encoding': 'br' } });
    expect(brotliDecompressSync(br.body).toString()).toBe(PAGE.replace('</head>', `${TAG}</head>`));
    // A HEAD says no length it cannot know (the GET's depends on the page); its body is empty.
    const head = await get('/', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBeUndefined();
    expect(head.body.length).toBe(0);
    const has = await get('/has');
    expect(has.body.toString()).toBe(PAGE.replace('</head>', `${TAG}</head>`));
    expect(has.headers['content-length']).toBe(String(has.body.length));
    expect((await get('/csp')).body.toString()).toContain(
      '<script async src="/balise/s.js" nonce="r4nd0m"></script></head>',
    );
  });

  it('streams other bodies as they are, both ways, and passes the origin’s errors', async () => {
    const binary = await get('/bin');
    expect(binary.body.equals(BINARY)).toBe(true);
    expect(binary.headers['content-length']).toBe(String(BINARY.length));
    const upload = randomBytes(2 * 1024 * 1024);
    // As curl sends a large body: Expect: 100-continue (answered by the gateway, not passed on).
    const echoed = await get('/echo', {
      method: 'POST',
      body: upload,
      headers: { 'content-type': 'application/octet-stream', expect: '100-continue' },
    });
    expect(echoed.body.equals(upload)).toBe(true);
    expect((await get('/404')).status).toBe(404);
    expect((await get('/500')).body.toString()).toBe('broken');
    expect((await get('/slow')).status).toBe(504);
    expect((await get('/close')).status).toBe(502);
  });

  it('relays a 64 MiB page at the reader’s pace, and stops reading the origin when the reader goes away', async () => {
    const whole = await get('/big');
    expect(whole.body.length).toBe(
      '<html><head><title>big</title></head><body></body></html>'.length +
        TAG.length +
        BIG_PIECES * BIG_PIECE.length,
    );
    const start = `<html><head><title>big</title>${TAG}</head><body>${'x'.repeat(10)}`;
    expect(whole.body.subarray(0, start.length).toString()).toBe(start);
    // A reader that takes 1 MiB, stops reading for a while, then leaves: meanwhile the gateway
    // stops reading the origin (backpressure), and then cuts its answer off long before its end
    // (it neither reads it through nor holds it).
    // The origin's count is read twice during the pause: it must have stopped growing.
    const whilePaused: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/huge', headers: { host: HOST } }, (res) => {
        let got = 0;
        res.on('data', (chunk: Buffer) => {
          got += chunk.length;
          if (got > 1024 * 1024 && !res.isPaused()) {
            res.pause();
            setTimeout(() => whilePaused.push(big.written), 700);
            setTimeout(() => {
              whilePaused.push(big.written);
              req.destroy();
              resolve();
            }, 1000);
          }
        });
      });
      req.on('error', () => undefined);
      setTimeout(() => reject(new Error('no data')), 5000);
      req.end();
    });
    expect(whilePaused[1]).toBe(whilePaused[0]);
    expect(whilePaused[1]).toBeLessThan(HUGE_PIECES / 2);
    await big.done;
    expect(big.cutOff).toBe(true);
    expect(big.written).toBeLessThan(HUGE_PIECES / 2);
  });

  it('keeps the prefix for itself, refuses hosts it does not know and never lets a target choose the upstream', async () => {
    const script = await get('/balise/s.js');
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toMatch(/javascript/);
    const before = seen.length;
    expect((await get('/', { host: 'www.unknown.test' })).status).toBe(404);
    expect(seen.length).toBe(before);
    // An absolute-form target: only its path goes on, to the configured upstream.
    const raw = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () =>
        socket.write(`GET http://evil.example/stolen HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`),
      );
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('end', () => resolve(text));
    });
    expect(raw).toContain('path /stolen');
    expect(seen.at(-1)!.headers.host).toBe(HOST);
  });

  it('limits each client network, switches to "under attack" by API, and shows its decisions in /metrics', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await get('/x', { host: 'www.guarded.test' })).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const refused = await get('/x', { host: 'www.guarded.test' });
    expect(refused.headers['retry-after']).toBe('1');
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const attack = (on: boolean) =>
      get('/balise/api/v1/proxy/under-attack', {
        method: 'POST',
        host: HOST,
        headers: auth,
        body: Buffer.from(JSON.stringify({ site: HOST, on })),
      });
    expect((await attack(true)).status).toBe(200);
    // The under-attack bucket (20 at once, 2 a second) then 429.
    const burst: number[] = [];
    for (let i = 0; i < 25; i++) burst.push((await get('/y')).status);
    expect(burst.slice(0, 19).every((status) => status === 200)).toBe(true);
    expect(burst.at(-1)).toBe(429);
    expect((await attack(false)).status).toBe(200);
    expect((await get('/y')).status).toBe(200);
    const unknown = await get('/balise/api/v1/proxy/under-attack', {
      method: 'POST',
      host: HOST,
      headers: auth,
      body: Buffer.from(JSON.stringify({ site: 'www.example.fr', on: true })),
    });
    expect(unknown.status).toBe(404);
    const metrics = (await get('/balise/metrics', { host: HOST, headers: auth })).body.toString();
    expect(metrics).toMatch(/balise_proxy_requests_total\{site="www\.guarded\.test",decision="prefix"\} 3/);
    expect(metrics).toMatch(
      /balise_proxy_requests_total\{site="www\.proxied\.test",decision="under_attack"\} [1-9]/,
    );
    expect(metrics).toMatch(/balise_proxy_under_attack\{site="www\.proxied\.test"\} 0/);
    expect(metrics).toMatch(
      /balise_proxy_upstream_healthy\{site="www\.proxied\.test",upstream="127\.0\.0\.1:\d+"\} 1/,
    );
  });

  it('passes WebSockets both ways', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/socket`, { headers: { host: HOST } });
    const answer = await new Promise<string>((resolve, reject) => {
      socket.on('open', () => socket.send('hello'));
      socket.on('message', (data) => resolve((data as Buffer).toString()));
      socket.on('error', reject);
    });
    expect(answer).toBe('echo hello');
    socket.close();
  });

  it('answers a client that left before the origin did: the request is still counted, the upstream not taken out', async () => {
    // The client goes away 50 ms in; the origin answers 300 ms in (an HTML page, to be injected).
    await new Promise<void>((resolve) => {
      const req = request({
        host: '127.0.0.1',
        port,
        path: '/later',
        headers: { host: 'www.failover.test' },
      });
      req.on('error', () => resolve());
      req.end();
      setTimeout(() => req.destroy(), 50);
    });
    await until(() => seen.some((s) => s.url === '/later'), 'the origin asked');
    await new Promise((resolve) => setTimeout(resolve, 400));
    // The first upstream still takes the site's requests (a client leaving is not its failure).
    expect((await get('/after-leaving', { host: 'www.failover.test' })).body.toString()).toBe(
      'path /after-leaving',
    );
    expect(backupSeen).not.toContain('/after-leaving');
  });

  it('moves to the next upstream when the first fails, and back when it recovers', async () => {
    expect((await get('/a', { host: 'www.failover.test' })).body.toString()).toBe('path /a');
    expect(backupSeen).toEqual([]);
    origin.close();
    origin.closeAllConnections();
    // The first request fails on the closed origin (502) and takes it out; the next go to the backup.
    await get('/b', { host: 'www.failover.test' });
    expect((await get('/c', { host: 'www.failover.test' })).body.toString()).toBe('path /c');
    expect(backupSeen).toContain('/c');
    const restarted = await new Promise<Server>((resolve) => {
      const server = createServer((req, res) => res.end(`path ${req.url}`));
      server.listen(Number(new URL(originUrl).port), '127.0.0.1', () => resolve(server));
    });
    try {
      const before = backupSeen.length;
      await until(() => false, 'nothing', 1200).catch(() => undefined);
      expect((await get('/d', { host: 'www.failover.test' })).body.toString()).toBe('path /d');
      expect(backupSeen.length).toBe(before);
    } finally {
      origin = restarted;
    }
  });

  it('stores every proxied request as a request event: status, bytes, upstream; no query, no IP', async () => {
    await gateway.close();
    const rows = (await readEvents(temp.dir)).filter((row) => row.type === 'request');
    const byPath = new Map(rows.map((row) => [row.path, row]));
    expect(byPath.get('/')).toMatchObject({ status: 200, source: 'proxy', site: HOST });
    expect(Number(byPath.get('/bin')!.bytes)).toBe(BINARY.length);
    expect(byPath.get('/slow')).toMatchObject({ status: 504 });
    // Its client gone before the answer: counted with the origin's status once it came.
    expect(byPath.get('/later')).toMatchObject({ status: 200, node: new URL(originUrl).host });
    expect(byPath.get('/stolen')).toMatchObject({ status: 200 });
    const nodes = new Set(rows.filter((row) => row.site === 'www.failover.test').map((row) => row.node));
    expect(nodes.size).toBe(2);
    // The query string is not kept (campaign parameters are read as for pages: docs/insights.md).
    expect(rows.every((row) => !String(row.path).includes('?'))).toBe(true);
    expect(JSON.stringify(rows)).not.toMatch(/"127\.0\.0\.1"|x=|session=abc/);
  });
});
