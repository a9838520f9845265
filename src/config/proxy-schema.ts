import { z } from 'zod';
import { isCidr } from './checks.js';

const bucket = z.strictObject({
  rate: z.number().positive().max(1_000_000).describe('Requests a second, on average'),
  burst: z.number().int().min(1).max(10_000_000).describe('Requests at once'),
});

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
  protect: z
    .strictObject({
      perPrefix: bucket
        .optional()
        .describe('Each client network (/24, /48): beyond it, 429 with Retry-After'),
      perPath: bucket.optional().describe('Each path, all clients together: beyond it, 429'),
      underAttack: bucket
        .default({ rate: 2, burst: 20 })
        .describe('Each client network while the site is under attack (switched by hand)'),
      auto: z
        .boolean()
        .default(false)
        .describe(
          'Switch to "under attack" when the attack detector finds a burst on the site in the last minute, and back after 5 quiet minutes',
        ),
      allow: z
        .array(z.string().refine(isCidr, 'must be an IP address or CIDR range such as 192.0.2.0/24'))
        .max(1000)
        .default([])
        .describe('Networks never limited'),
    })
    .prefault({})
    .describe('L7 protection (docs/proxy.md#protection)'),
});
