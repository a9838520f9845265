import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { ProcessMetrics, stampArrival } from '../src/api/process-metrics.js';

/** The lines of one series of the gateway's latency histogram. */
async function collectLines(metrics: ProcessMetrics): Promise<Map<string, number>> {
  const lines = (await metrics.text()).split('\n').filter((l) => l.includes('route="collect"'));
  return new Map(lines.map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]));
}

describe('request latency (balise_http_request_duration_seconds)', () => {
  it('measures from the arrival stamp to the answer, in seconds, in the route group it matched', async () => {
    const metrics = new ProcessMetrics('/balise');
    const raw = {} as IncomingMessage;
    stampArrival(raw);
    await new Promise((resolve) => setTimeout(resolve, 30));
    metrics.observe({ raw, method: 'POST', routeOptions: { url: '/balise/e' } } as unknown as FastifyRequest);
    const lines = await collectLines(metrics);
    const name = 'balise_http_request_duration_seconds';
    expect(lines.get(`${name}_count{route="collect",method="POST"}`)).toBe(1);
    expect(lines.get(`${name}_sum{route="collect",method="POST"}`)).toBeGreaterThanOrEqual(0.029);
    expect(lines.get(`${name}_bucket{le="0.025",route="collect",method="POST"}`)).toBe(0);
    expect(lines.get(`${name}_bucket{le="+Inf",route="collect",method="POST"}`)).toBe(1);
  });

  it('leaves out a request that did not come through the server (no stamp)', async () => {
    const metrics = new ProcessMetrics('/balise');
    metrics.observe({
      raw: {} as IncomingMessage,
      method: 'POST',
      routeOptions: { url: '/balise/e' },
    } as unknown as FastifyRequest);
    expect([...(await collectLines(metrics)).values()].every((n) => n === 0)).toBe(true);
  });
});
