import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { OutgoingRequest } from './egress.js';

/** A vendor's answer as the outbox needs it: status and the start of the body. */
export interface VendorAnswer {
  status: number;
  body: string;
}

/** Sends one request; rejects on network errors and after `timeoutMs`. */
export type Transport = (request: OutgoingRequest, timeoutMs: number) => Promise<VendorAnswer>;

/**
 * The outbox's HTTP client: node:http/https with keep-alive agents (a few times cheaper per
 * request than fetch), no redirects followed, at most 64 KiB of the answer kept.
 */
export function httpTransport(maxSockets: number): Transport {
  const agents = {
    'http:': new HttpAgent({ keepAlive: true, maxSockets }),
    'https:': new HttpsAgent({ keepAlive: true, maxSockets }),
  };
  return (request, timeoutMs) =>
    new Promise<VendorAnswer>((resolve, reject) => {
      const url = new URL(request.url);
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const body = request.body === null ? null : Buffer.from(request.body);
      const req = send(
        url,
        {
          method: request.method,
          headers: { ...request.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
          agent: agents[url.protocol as 'http:' | 'https:'],
          timeout: timeoutMs,
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            if (size < 65_536) chunks.push(chunk);
            size += chunk.length;
          });
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          response.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`TimeoutError: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body ?? undefined);
    });
}
