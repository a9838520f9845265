// Open-loop load for bench/collect and bench/delivery: POSTs BODY to URL at RATE requests per
// second, evenly spaced, sent on schedule whether or not earlier answers came (no coordinated
// omission), for 1 + SECONDS over up to 256 keep-alive connections, one request at a time on
// each; prints the latency percentiles from each request's scheduled time, in ms, leaving out the
// first second (connections opened, code compiled). VISITORS as in load.ts.
//
// On plain sockets, with each request's bytes made once and answers read by counting bytes, not
// through an HTTP client: the generator shares the machine's two cores with the server, and what
// it spends per request — and its own pauses, which count as latency — is what it adds to the
// figure. Through undici (a promise and objects per request), it used ≈ 47 µs of CPU a request
// and its p99 at 7,000 req/s was 17–40 ms where the gateway's own timing said 7–14 (BENCHMARKS.md).
import { connect, type Socket } from 'node:net';
import { browserHeaders, visitorAddress } from './visitors.js';

const [url, seconds, rate, body, visitors = '1'] = process.argv.slice(2);
if (!url || !seconds || !rate || !body) throw new Error('usage: paced.ts URL SECONDS RATE BODY [VISITORS]');
const target = new URL(url);
if (target.protocol !== 'http:') throw new Error('paced.ts sends plain HTTP/1.1 only');
const port = Number(target.port || 80);
const perSecond = Number(rate);
const total = Math.floor(perSecond * (Number(seconds) + 1));
const count = Number(visitors);
const MAX_CONNECTIONS = 256;

const bodyBytes = Buffer.from(body);
const headerText = (i: number): string => {
  const headers: Record<string, string> = browserHeaders();
  if (count > 1) headers['x-forwarded-for'] = visitorAddress(i % count);
  let text = `POST ${target.pathname}${target.search} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) text += `${name}: ${value}\r\n`;
  return `${text}content-length: ${bodyBytes.length}\r\n\r\n`;
};
const oneRequest = count > 1 ? null : Buffer.concat([Buffer.from(headerText(0), 'latin1'), bodyBytes]);
const requestBytes = (i: number): Buffer =>
  oneRequest ?? Buffer.concat([Buffer.from(headerText(i), 'latin1'), bodyBytes]);

/** One keep-alive connection, with at most one request in flight. */
interface Connection {
  socket: Socket;
  open: boolean;
  /** The scheduled time of the request in flight (NaN: none). */
  scheduled: number;
  /** Bytes of an answer's head read so far (the head ends with a blank line). */
  head: Buffer | null;
  /** Bytes of the answer's body still to come. */
  bodyLeft: number;
}

const start = performance.now();
const latencies = new Float64Array(total);
let measured = 0;
let answered = 0;
let errors = 0;
let next = 0;
const idle: Connection[] = [];
const waiting: [scheduled: number, index: number][] = []; // requests with no idle connection yet
let connections = 0;
let finish: () => void = () => {};
const finished = new Promise<void>((resolve) => (finish = resolve));

/** A request's end: an answer (its latency kept; not a 2xx: also an error) or a lost connection. */
function settle(scheduled: number, answer: 'ok' | 'refused' | 'lost'): void {
  answered++;
  if (answer !== 'ok') errors++;
  if (answer !== 'lost' && scheduled - start >= 1000) latencies[measured++] = performance.now() - scheduled;
  if (answered === total) finish();
}

function send(connection: Connection, scheduled: number, index: number): void {
  connection.scheduled = scheduled;
  connection.socket.write(requestBytes(index));
}

function release(connection: Connection): void {
  connection.scheduled = NaN;
  const queued = waiting.shift();
  if (queued !== undefined) send(connection, queued[0], queued[1]);
  else idle.push(connection);
}

/** Reads answers: a head up to its blank line, then Content-Length bytes of body. */
function onData(connection: Connection, chunk: Buffer): void {
  let data = chunk;
  while (data.length > 0) {
    if (connection.bodyLeft > 0) {
      const taken = Math.min(connection.bodyLeft, data.length);
      connection.bodyLeft -= taken;
      data = data.subarray(taken);
      if (connection.bodyLeft === 0) release(connection);
      continue;
    }
    const head = connection.head ? Buffer.concat([connection.head, data]) : data;
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) {
      connection.head = head;
      return;
    }
    connection.head = null;
    const text = head.toString('latin1', 0, end);
    const status = Number(text.slice(9, 12));
    if (/\r\ntransfer-encoding:/i.test(text)) throw new Error('paced.ts reads Content-Length answers only');
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(text)?.[1] ?? 0);
    settle(connection.scheduled, status >= 200 && status < 300 ? 'ok' : 'refused');
    data = head.subarray(end + 4);
    connection.bodyLeft = length;
    if (length === 0) release(connection);
  }
}

function open(): Connection {
  connections++;
  const connection: Connection = {
    socket: connect({ host: target.hostname, port, noDelay: true }),
    open: true,
    scheduled: NaN,
    head: null,
    bodyLeft: 0,
  };
  connection.socket.on('data', (chunk: Buffer) => onData(connection, chunk));
  const closed = () => {
    if (!connection.open) return;
    connection.open = false;
    connections--;
    const at = idle.indexOf(connection);
    if (at >= 0) idle.splice(at, 1);
    // A request in flight on a connection that closed is an error (not sent again).
    if (!Number.isNaN(connection.scheduled)) settle(connection.scheduled, 'lost');
  };
  connection.socket.on('error', closed);
  connection.socket.on('close', closed);
  return connection;
}

function dispatch(scheduled: number, index: number): void {
  // The most recently used connection first: the others may be closed by the server when idle.
  const connection = idle.pop() ?? (connections < MAX_CONNECTIONS ? open() : null);
  if (connection) send(connection, scheduled, index);
  else waiting.push([scheduled, index]);
}

function tick(): void {
  const now = performance.now();
  // Every request whose time has come, each measured from its own scheduled time.
  for (; next < total && start + (next * 1000) / perSecond <= now; next++)
    dispatch(start + (next * 1000) / perSecond, next);
  if (next < total) setTimeout(tick, Math.max(0, start + (next * 1000) / perSecond - now - 0.5));
}
tick();
// For a caller that reads the server's own figures over the measured part only (bench/collect).
setTimeout(() => process.stderr.write('paced: measuring\n'), 1000).unref();
// Bounded: answers that never come are counted as errors after the load plus 30 s.
const limit = setTimeout(finish, (Number(seconds) + 31) * 1000);
await finished;
clearTimeout(limit);
errors += total - answered;
const sorted = latencies.subarray(0, measured).sort();
const at = (q: number) =>
  Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN) * 10) / 10;
process.stdout.write(
  `${JSON.stringify({ rate: perSecond, sent: total, answered: measured, errors, p50: at(0.5), p99: at(0.99), max: at(1) })}\n`,
);
process.exit(0);
