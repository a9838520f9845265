import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BaliseError } from '../errors.js';
import type { ToolRuntime } from './runtime.js';
import { HookTimeout, withTimeout } from './timeout.js';

const MAX_ANSWER_BYTES = 1 << 20;

/**
 * Serves the handlers components register with `manager.route(path, fn)` at
 * `{prefix}/mc/{site}/{tool}{path}`: the handler gets a Fetch `Request` (no cookies, no client
 * IP: only method, path, query, content type and body) and answers a `Response`; a throwing or
 * slow handler answers 502/504 and never affects the others.
 */
export function registerToolRoutes(
  app: FastifyInstance,
  prefix: string,
  tools: ToolRuntime,
  timeoutMs = 2000,
): void {
  app.all(`${prefix}/mc/:site/:tool/*`, async (request: FastifyRequest, reply: FastifyReply) => {
    const params = request.params as { site: string; tool: string; '*': string };
    const path = `/${params['*']}`;
    const handler = tools.route(params.site, params.tool, path);
    if (!handler)
      throw new BaliseError('not_found', `no route ${path} for tool ${params.tool} of ${params.site}`);
    const url = new URL(request.url, 'http://gateway.invalid');
    const body = request.body;
    const init: RequestInit = { method: request.method };
    if (request.method !== 'GET' && request.method !== 'HEAD' && body !== undefined && body !== null) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      init.headers = { 'content-type': String(request.headers['content-type'] ?? 'text/plain') };
    }
    const fetchRequest = new Request(`https://${params.site}${path}${url.search}`, init);
    let answer: unknown;
    try {
      answer = await withTimeout(() => handler(fetchRequest), timeoutMs);
    } catch (error) {
      const timeout = error instanceof HookTimeout;
      throw new BaliseError(timeout ? 'tool_timeout' : 'tool_failed', `the ${params.tool} route failed`);
    }
    if (!(answer instanceof Response))
      throw new BaliseError('tool_failed', `the ${params.tool} route did not answer a Response`);
    const text = Buffer.from(await answer.arrayBuffer());
    if (text.length > MAX_ANSWER_BYTES) throw new BaliseError('tool_failed', 'the route answer is too large');
    reply.code(answer.status);
    const type = answer.headers.get('content-type');
    if (type) reply.header('content-type', type);
    // A component's answer never sets cookies or scripts on the site's origin.
    reply.header('content-security-policy', "default-src 'none'");
    reply.header('x-content-type-options', 'nosniff');
    return reply.send(text);
  });
}
