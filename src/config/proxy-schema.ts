import { z } from 'zod';

/** An upstream origin: http(s), a host and maybe a port, no path, query or credentials. */
const origin = z
  .string()
  .max(2048)
  .refine((text) => {
    try {
      const url = new URL(text);
      return (
        (url.protocol === 'http:' || url.protocol === 'https:') &&
        url.username === '' &&
        url.password === '' &&
        (url.pathname === '/' || url.pathname === '') &&
        url.search === '' &&
        url.hash === ''
      );
    } catch {
      return false;
    }
  }, 'must be an origin such as http://127.0.0.1:9000 (http or https, no path, query or credentials)');

/** Proxy mode of a site: Balise in front of it (docs/proxy.md). */
export const proxySchema = z.strictObject({
  upstream: z
    .union([origin, z.array(origin).min(1).max(16)])
    .describe('The origin (or origins, the first healthy one serving) requests outside the prefix go to'),
  inject: z.boolean().default(true).describe('Add the script to text/html answers that do not have it'),
  healthCheck: z
    .strictObject({
      path: z.string().regex(/^\//, 'must start with /').max(1024).default('/'),
      intervalMs: z.number().int().min(500).max(300_000).default(5000),
      timeoutMs: z.number().int().min(100).max(60_000).default(2000),
    })
    .prefault({})
    .describe('Active checks of each upstream (when there are several): a GET that must answer < 500'),
  timeoutMs: z
    .number()
    .int()
    .min(1000)
    .max(600_000)
    .default(30_000)
    .describe('Longest wait for an upstream’s answer headers, then 504'),
});
