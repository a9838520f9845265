import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import { errors } from 'undici';
import { injectionOf, injectionStreams, type HeadInjector } from './inject.js';
import type { Upstream } from './upstreams.js';

/**
 * Headers of one hop only (RFC 9110 §7.6.1), never passed on — and `Expect`, which the gateway's
 * own HTTP server answers (100 Continue) before the body comes.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'expect',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** The headers without the hop-by-hop ones (and those the Connection header names). */
export function endToEnd(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>) {
  // Most requests name no header in Connection but keep-alive or close: no set to build then.
  const connection = headers.connection;
  const named =
    connection === undefined || /^\s*(keep-alive|close)\s*$/i.test(String(connection))
      ? null
      : new Set(
          String(connection)
            .toLowerCase()
            .split(',')
            .map((name) => name.trim()),
        );
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !HOP_BY_HOP.has(name) && !named?.has(name)) out[name] = value;
  }
  return out;
}

/**
 * The path and query of a request target: origin-form as it is; absolute-form
 * (`GET http://other.example/x`) reduced to its path — the target never chooses where the request
 * goes. Null for anything else (`*`, authority-form).
 */
export function targetPath(url: string | undefined): string | null {
  if (!url) return null;
  if (url.startsWith('/')) return url.startsWith('//') ? null : url;
  if (!/^https?:\/\//i.test(url)) return null;
  try {
    const parsed = new URL(url);
    return `${parsed.pathname}${parsed.search}`;
  } catch {
    return null;
  }
}

/** What one forwarded request was, for its `request` event. */
export interface Forwarded {
  status: number;
  bytes: number;
  upstream: string;
  cache: string | null;
  injected: boolean;
}

/**
 * Sends one request to an upstream and streams the answer back: bodies both ways as streams
 * (never read whole), hop-by-hop headers dropped, `X-Forwarded-For/-Proto/-Host` and `Via` set,
 * redirects passed to the client (never followed); an HTML answer gets the script when `inject`.
 * Rejects when the upstream cannot be reached (nothing sent to the client yet), with undici's error.
 */
export async function forward(
  request: IncomingMessage,
  response: ServerResponse,
  options: {
    upstream: Upstream;
    path: string;
    forwardedFor: string;
    proto: string;
    timeoutMs: number;
    scriptSrc: string | null;
  },
): Promise<Forwarded> {
  const headers = endToEnd(request.headers);
  headers['x-forwarded-for'] = options.forwardedFor;
  headers['x-forwarded-proto'] = options.proto;
  headers['x-forwarded-host'] = request.headers.host ?? '';
  headers.via = request.headers.via ? `${request.headers.via}, 1.1 balise` : '1.1 balise';
  const hasBody =
    request.headers['transfer-encoding'] !== undefined ||
    (request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0');
  const answer = await options.upstream.pool.request({
    path: options.path,
    method: request.method as 'GET',
    headers,
    body: hasBody ? request : null,
    headersTimeout: options.timeoutMs,
  });
  const out = endToEnd(answer.headers);
  out.via = answer.headers.via ? `${String(answer.headers.via)}, 1.1 balise` : '1.1 balise';
  const injectable =
    options.scriptSrc && answer.statusCode === 200 ? injectionOf(answer.headers, options.scriptSrc) : null;
  const injection = request.method === 'HEAD' ? null : injectable;
  // A HEAD of a page a GET would get the tag in: its length is not known without the page.
  if (injectable && !injection) delete out['content-length'];
  // A compressed page is opened, injected and compressed again by streams (sent chunked); an
  // uncompressed one goes through the injector as it comes, its head sent once the injector
  // knows whether the tag went in, with the origin's Content-Length grown by the tag's.
  const length = answer.headers['content-length'];
  const source: Readable = injection?.codec
    ? // Its errors reach the last stream, which the relay reads.
      (pipeline(
        [answer.body as Readable, ...injectionStreams(injection)],
        () => undefined,
      ) as unknown as Readable)
    : answer.body;
  const injector = injection && !injection.codec ? injection.injector : null;
  const bytes = await relay(source, response, injector, () => {
    if (injection?.codec) delete out['content-length'];
    else if (injector && typeof length === 'string' && /^\d+$/.test(length))
      out['content-length'] = String(Number(length) + (injector.injected ? injector.tagLength : 0));
    response.writeHead(answer.statusCode, out);
  });
  const cache =
    answer.headers['x-cache'] ?? answer.headers['cf-cache-status'] ?? answer.headers['x-cache-status'];
  return {
    status: answer.statusCode,
    bytes,
    upstream: options.upstream.name,
    cache: cache === undefined ? null : String(cache).slice(0, 32),
    injected: injection !== null,
  };
}

/**
 * Sends a body to the client as it comes (through `injector` when given), with the client's pace
 * (the source paused while the client's socket is full); `head` writes the answer's head before
 * the first bytes leave. Resolves with the bytes sent once the answer is
 * done or abandoned — the client gone (the upstream's answer then dropped) or the upstream broken
 * off (the client's connection then closed). Without a stream pipeline to the client and its
 * per-request abort signal and counting stream: ≈ a quarter of the proxy's CPU per request
 * (BENCHMARKS.md).
 */
function relay(
  body: Readable,
  response: ServerResponse,
  injector: HeadInjector | null,
  head: () => void,
): Promise<number> {
  return new Promise((resolve) => {
    let bytes = 0;
    let headed = false;
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      resolve(bytes);
    };
    const resume = () => body.resume();
    const send = (pieces: Buffer[]) => {
      if (!headed) {
        headed = true;
        head();
      }
      let room = true;
      response.cork();
      for (const piece of pieces) {
        bytes += piece.length;
        room = response.write(piece);
      }
      response.uncork();
      if (!room) {
        body.pause();
        response.once('drain', resume);
      }
    };
    body.on('data', (chunk: Buffer) => {
      const pieces = injector ? injector.write(chunk) : [chunk];
      if (pieces) send(pieces);
    });
    body.once('end', () => {
      send(injector?.end() ?? []);
      response.end(settle);
    });
    body.once('error', () => {
      response.destroy();
      settle();
    });
    response.once('close', () => {
      if (!response.writableFinished) body.destroy();
      settle();
    });
  });
}

/** The status an upstream failure answers: 504 when it did not answer in time, else 502. */
export function failureStatus(error: unknown): number {
  return error instanceof errors.HeadersTimeoutError || error instanceof errors.ConnectTimeoutError
    ? 504
    : 502;
}
