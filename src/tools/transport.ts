import { Pool, type Dispatcher } from 'undici';
import type { OutgoingRequest } from './egress.js';

/** A vendor's answer as the outbox needs it: status and the start of the body. */
export interface VendorAnswer {
  status: number;
  body: string;
}

/** Sends one request; rejects on network errors and after `timeoutMs`. */
export type Transport = (request: OutgoingRequest, timeoutMs: number) => Promise<VendorAnswer>;

const KEPT_BYTES = 65_536;

/**
 * The outbox's HTTP client: undici's connection pools, one per vendor origin with at most
 * `maxSockets` keep-alive connections — half the CPU per request of node:http with keep-alive
 * agents, and a few times less than fetch (BENCHMARKS.md). No redirect is followed; at most
 * 64 KiB of the answer is kept.
 */
export function httpTransport(maxSockets: number): Transport {
  const pools = new Map<string, Pool>();
  return async (request, timeoutMs) => {
    const url = new URL(request.url);
    let pool = pools.get(url.origin);
    if (!pool) pools.set(url.origin, (pool = new Pool(url.origin, { connections: maxSockets })));
    try {
      const response = await pool.request({
        path: `${url.pathname}${url.search}`,
        method: request.method as Dispatcher.HttpMethod,
        headers: request.headers,
        body: request.body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        if (size < KEPT_BYTES) chunks.push(chunk);
        size += chunk.length;
      }
      return { status: response.statusCode, body: Buffer.concat(chunks).toString('utf8') };
    } catch (error) {
      // undici's HeadersTimeoutError and BodyTimeoutError, said as the outbox logs it.
      if (error instanceof Error && /Timeout/.test(error.name))
        throw new Error(`TimeoutError: no answer within ${timeoutMs} ms`, { cause: error });
      throw error;
    }
  };
}
