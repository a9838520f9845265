import { lookup as dnsLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Pool, type Dispatcher } from 'undici';
import { isPrivateAddress, type OutgoingRequest } from './egress.js';

/** A vendor's answer as the outbox needs it: status and the start of the body. */
export interface VendorAnswer {
  status: number;
  body: string;
}

/**
 * Sends one request; rejects on network errors and after `timeoutMs`. Unless `privateAllowed`
 * (a host the operator listed), a connection to a private, loopback or link-local address is
 * refused when it is made.
 */
export type Transport = (
  request: OutgoingRequest,
  timeoutMs: number,
  privateAllowed?: boolean,
) => Promise<VendorAnswer>;

const KEPT_BYTES = 65_536;

/**
 * The outbox's HTTP client: undici's connection pools, one per vendor origin with at most
 * `maxSockets` keep-alive connections — half the CPU per request of node:http with keep-alive
 * agents, and a few times less than fetch (BENCHMARKS.md). No redirect is followed; at most
 * 64 KiB of the answer is kept.
 *
 * The egress guard checks where a host resolves before a delivery is sent; the address actually
 * connected to is checked again here, on the resolution the connection uses, so that a name
 * answering a public address to the check and a private one to the connection (DNS rebinding)
 * still cannot reach the gateway's network. `lookup` resolves names (tests give their own).
 */
export function httpTransport(maxSockets: number, lookup: LookupFunction = dnsLookup): Transport {
  const pools = new Map<string, Pool>();
  const guarded = guardedLookup(lookup);
  return async (request, timeoutMs, privateAllowed = false) => {
    const url = new URL(request.url);
    const key = `${privateAllowed ? 'private' : 'public'} ${url.origin}`;
    let pool = pools.get(key);
    if (!pool)
      pools.set(
        key,
        (pool = new Pool(url.origin, {
          connections: maxSockets,
          connect: { lookup: privateAllowed ? lookup : guarded },
        })),
      );
    return send(pool, `${url.pathname}${url.search}`, request, timeoutMs);
  };
}

/**
 * One request on undici's handler API: the answer's first 64 KiB gathered as it comes — no
 * promise of a response object, body stream or async iterator per request (GA4's Measurement
 * Protocol makes one request per visitor's event).
 */
function send(pool: Pool, path: string, request: OutgoingRequest, timeoutMs: number): Promise<VendorAnswer> {
  return new Promise((resolve, reject) => {
    let status = 0;
    const chunks: Buffer[] = [];
    let size = 0;
    pool.dispatch(
      {
        path,
        method: request.method as Dispatcher.HttpMethod,
        headers: request.headers,
        body: request.body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      },
      {
        onConnect: () => undefined,
        onHeaders: (code) => {
          status = code;
          return true;
        },
        onData: (chunk) => {
          if (size < KEPT_BYTES) chunks.push(chunk);
          size += chunk.length;
          return true;
        },
        onComplete: () =>
          resolve({
            status,
            body: chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'),
          }),
        onError: (error) =>
          // undici's HeadersTimeoutError and BodyTimeoutError, said as the outbox logs it.
          reject(
            /Timeout/.test(error.name)
              ? new Error(`TimeoutError: no answer within ${timeoutMs} ms`, { cause: error })
              : error,
          ),
      },
    );
  });
}

/** `lookup`, failing for a name that resolves to a private, loopback or link-local address. */
function guardedLookup(lookup: LookupFunction): LookupFunction {
  return (hostname, options, callback) =>
    lookup(hostname, options, (error, address, family) => {
      if (error) return callback(error, address, family);
      const addresses = Array.isArray(address) ? address.map((a) => a.address) : [address];
      const blocked = addresses.find((a) => isPrivateAddress(a));
      if (blocked)
        return callback(
          Object.assign(
            new Error(`${hostname} resolves to the private address ${blocked} (when connecting)`),
            {
              code: 'EPRIVATE',
            },
          ),
          address,
          family,
        );
      callback(null, address, family);
    });
}
