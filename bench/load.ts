// Load generator for bench/collect and bench/proxy, run as its own process: autocannon against one
// URL, bounded in time. BODY `-` sends GETs (bench/proxy), anything else POSTs it. VISITORS
// above 1 gives each request the X-Forwarded-For of one of that many visitors, in turn (the
// server must trust 127.0.0.1 as a proxy): a site's traffic, not one browser's.
import autocannon from 'autocannon';
import { browserHeaders, visitorAddress } from './visitors.js';

const [url, seconds, connections, body, visitors = '1'] = process.argv.slice(2);
if (!url || !body) throw new Error('usage: load.ts URL SECONDS CONNECTIONS BODY [VISITORS]');
const count = Number(visitors);
let next = 0;
const result = await autocannon({
  url,
  method: body === '-' ? 'GET' : 'POST',
  duration: Number(seconds ?? 10),
  connections: Number(connections ?? 50),
  headers: browserHeaders(),
  ...(body === '-' ? {} : { body }),
  ...(count > 1
    ? {
        requests: [
          {
            setupRequest: (request: autocannon.Request) => ({
              ...request,
              headers: { ...request.headers, 'x-forwarded-for': visitorAddress(next++ % count) },
            }),
          },
        ],
      }
    : {}),
});
process.stdout.write(
  JSON.stringify({
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  }) + '\n',
);
