import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { pipeline, type Readable, type Writable } from 'node:stream';
import { errors, util } from 'undici';
import { injectionOf, injectionStreams, type HeadInjector } from './inject.js';

const { parseHeaders } = util;
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
  cache: string | null;
}

/**
 * Sends one request to an upstream and streams the answer back: bodies both ways as streams
 * (never read whole), hop-by-hop headers dropped, `X-Forwarded-For/-Proto/-Host` and `Via` set,
 * redirects passed to the client (never followed); an HTML answer gets the script when `inject`.
 * Rejects when the upstream cannot be reached (nothing sent to the client yet), with undici's error.
 *
 * On undici's handler API (`dispatch`): the answer's bytes come to `onData` and go to the client
 * as they come, with the client's pace (undici's socket paused while the client's is full) —
 * no promise, body stream or per-request abort signal between them (BENCHMARKS.md).
 */
export function forward(
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
  return new Promise((resolve, reject) => {
    const answer = new Relay(response, options.scriptSrc, request.method === 'HEAD', resolve);
    options.upstream.pool.dispatch(
      {
        path: options.path,
        method: request.method as 'GET',
        headers,
        body: hasBody ? request : null,
        headersTimeout: options.timeoutMs,
      },
      {
        onConnect: (abort) => answer.connected(abort),
        onHeaders: (status, raw, resume) => answer.headers(status, raw, resume),
        onData: (chunk) => answer.data(chunk),
        onComplete: () => answer.complete(),
        onError: (error) => (answer.started ? answer.failed() : reject(error)),
      },
    );
  });
}

/**
 * One upstream answer on its way to the client (`forward`'s undici handler): its head written once
 * the injector knows whether the tag goes in, its bytes written as they come (through the
 * injector, or the codec streams of a compressed page), undici paused while the client's socket
 * is full; the client gone, the upstream request is aborted.
 */
class Relay {
  /** True once the answer's head came (an error then breaks the client's connection off). */
  started = false;
  private abort: ((error?: Error) => void) | null = null;
  private resume: (() => void) | null = null;
  private out: Record<string, string | string[]> = {};
  private status = 0;
  private length: string | undefined;
  private cache: string | null = null;
  private injector: HeadInjector | null = null;
  /** A compressed page's first codec stream (its last one is relayed to the client). */
  private codecIn: Writable | null = null;
  private headed = false;
  private bytes = 0;
  private settled = false;
  /** The client's connection closed before the answer ended. */
  private gone = false;
  /** A compressed page's last codec stream, paused while the client's socket is full. */
  private codecOut: Readable | null = null;

  constructor(
    private readonly response: ServerResponse,
    private readonly scriptSrc: string | null,
    private readonly head: boolean,
    private readonly done: (forwarded: Forwarded) => void,
  ) {
    response.once('close', () => {
      if (!response.writableFinished) {
        // The client gone before the answer ended: the upstream's answer is dropped (once it came).
        this.gone = true;
        if (!this.started) return;
        this.abort?.();
      }
      this.settle();
    });
  }

  connected(abort: (error?: Error) => void): void {
    this.abort = abort;
  }

  headers(status: number, raw: Buffer[] | string[] | null, resume: () => void): boolean {
    if (status < 200) return true;
    this.started = true;
    this.status = status;
    this.resume = resume;
    if (this.gone) {
      this.abort?.();
      this.settle();
      return false;
    }
    const answer = parseHeaders(raw ?? []) as Record<string, string | string[] | undefined>;
    const out = endToEnd(answer);
    out.via = answer.via ? `${String(answer.via)}, 1.1 balise` : '1.1 balise';
    this.out = out;
    const cache = answer['x-cache'] ?? answer['cf-cache-status'] ?? answer['x-cache-status'];
    this.cache = cache === undefined ? null : String(cache).slice(0, 32);
    this.length = typeof answer['content-length'] === 'string' ? answer['content-length'] : undefined;
    const injectable = this.scriptSrc && status === 200 ? injectionOf(answer, this.scriptSrc) : null;
    // A HEAD of a page a GET would get the tag in: its length is not known without the page.
    if (injectable && this.head) delete out['content-length'];
    const injection = this.head ? null : injectable;
    if (injection?.codec) {
      // A compressed page is opened, injected and compressed again by streams (sent chunked).
      delete out['content-length'];
      const streams = injectionStreams(injection);
      this.codecIn = streams[0]!;
      const codecOut = pipeline(streams, () => undefined) as unknown as Readable;
      this.codecOut = codecOut;
      codecOut.on('data', (chunk: Buffer) => this.send([chunk]));
      codecOut.once('end', () => this.finish());
      codecOut.once('error', () => this.response.destroy());
      this.codecIn.on('drain', () => this.resume?.());
    } else if (injection) this.injector = injection.injector;
    return true;
  }

  data(chunk: Buffer): boolean {
    if (this.codecIn) return this.codecIn.write(chunk);
    const pieces = this.injector ? this.injector.write(chunk) : [chunk];
    return pieces ? this.send(pieces) : true;
  }

  complete(): void {
    if (this.codecIn) this.codecIn.end();
    else {
      this.send(this.injector?.end() ?? []);
      this.finish();
    }
  }

  /** The upstream broke off after the head: the client's connection is closed. */
  failed(): void {
    this.codecIn?.destroy();
    this.response.destroy();
    this.settle();
  }

  /** Writes pieces to the client (the head first); false when its socket is full. */
  private send(pieces: Buffer[]): boolean {
    const response = this.response;
    if (!this.headed) {
      this.headed = true;
      const { out, injector, length } = this;
      if (injector && length !== undefined && /^\d+$/.test(length))
        out['content-length'] = String(Number(length) + (injector.injected ? injector.tagLength : 0));
      response.writeHead(this.status, out);
    }
    if (pieces.length === 0) return true;
    let room = true;
    response.cork();
    for (const piece of pieces) {
      this.bytes += piece.length;
      room = response.write(piece);
    }
    response.uncork();
    if (!room) {
      const codecOut = this.codecOut;
      codecOut?.pause();
      response.once('drain', () => (codecOut ? codecOut.resume() : this.resume?.()));
    }
    return room;
  }

  private finish(): void {
    if (!this.headed) this.send([]);
    this.response.end(() => this.settle());
  }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    this.done({ status: this.status, bytes: this.bytes, cache: this.cache });
  }
}

/** The status an upstream failure answers: 504 when it did not answer in time, else 502. */
export function failureStatus(error: unknown): number {
  return error instanceof errors.HeadersTimeoutError || error instanceof errors.ConnectTimeoutError
    ? 504
    : 502;
}
