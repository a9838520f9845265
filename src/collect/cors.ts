import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SiteIndex } from '../config/sites.js';

/**
 * CORS for collect only, and only for the sites' own origins: an allowed Origin is echoed back
 * (never `*`, never credentials). Other origins get no CORS headers, so browsers refuse them.
 */
export function allowSiteOrigin(sites: SiteIndex, request: FastifyRequest, reply: FastifyReply): void {
  const origin = request.headers.origin;
  void reply.header('vary', 'Origin');
  if (origin && sites.forOrigin(origin)) void reply.header('access-control-allow-origin', origin);
}

/** Answers CORS preflight requests for `path` (needed when the fetch fallback sends JSON). */
export function registerPreflight(app: FastifyInstance, path: string, sites: SiteIndex): void {
  app.options(path, (request, reply) => {
    allowSiteOrigin(sites, request, reply);
    if (reply.hasHeader('access-control-allow-origin')) {
      void reply
        .header('access-control-allow-methods', 'POST')
        .header('access-control-allow-headers', 'content-type, x-balise-debug')
        .header('access-control-max-age', '86400');
    }
    return reply.code(204).send();
  });
}
