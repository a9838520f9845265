// Baseline for bench/proxy: the least a Node proxy does — node:http in front, undici's Pool
// behind (the handler API, as Balise's relay), the answer's head and bytes written through as they
// come. No injection, no event, no protection: the floor under Balise's proxy on the same Node.
import { createServer } from 'node:http';
import { Pool } from 'undici';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: bare-proxy.ts UPSTREAM_ORIGIN');
const pool = new Pool(upstream, { connections: 64 });
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding']);

const server = createServer((request, response) => {
  pool.dispatch(
    {
      path: request.url ?? '/',
      method: 'GET',
      headers: { host: request.headers.host ?? '', 'x-forwarded-for': request.socket.remoteAddress ?? '' },
    },
    {
      onConnect() {},
      onError() {
        if (!response.headersSent) response.writeHead(502);
        response.end();
      },
      onHeaders(status, raw) {
        const headers: Record<string, string> = {};
        for (let i = 0; i < raw.length; i += 2) {
          const name = raw[i]!.toString('latin1').toLowerCase();
          if (!HOP_BY_HOP.has(name)) headers[name] = raw[i + 1]!.toString('latin1');
        }
        response.writeHead(status, headers);
        return true;
      },
      onData(chunk: Buffer) {
        return response.write(chunk);
      },
      onComplete() {
        response.end();
      },
    },
  );
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') process.stdout.write(`on http://127.0.0.1:${address.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
