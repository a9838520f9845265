import { z } from 'zod';
import { PERMISSIONS } from './permissions.js';
import { actionSchema, triggerSchema } from './trigger-schema.js';
import { proxySchema } from './proxy-schema.js';
import { policyProblems, PROFILES, STRICTNESS } from '../privacy/policy.js';
import { hostname, isTimeZone } from './checks.js';

export const privacySchema = z
  .strictObject({
    profile: z
      .enum(PROFILES)
      .default('cnil-proxy')
      .describe('Privacy profile (docs/privacy.md). `off` is refused unless server.mode is development.'),
    query: z
      .union([
        z.enum(['keep', 'known-trackers', 'strip']),
        z.strictObject({ allow: z.array(z.string().min(1).max(100)).min(1) }),
      ])
      .optional()
      .describe('URL query parameters: keep, known-trackers, strip (default) or {allow: [names]}'),
    ip: z.enum(STRICTNESS.ip).optional().describe('Visitor IP for tools: keep, trim or hide (default)'),
    userAgent: z
      .enum(STRICTNESS.userAgent)
      .optional()
      .describe('User-Agent for tools: keep, reduce (default) or remove'),
    referrer: z
      .enum(STRICTNESS.referrer)
      .optional()
      .describe('Referrer: keep, strip-external (default) or remove'),
    dlp: z
      .enum(STRICTNESS.dlp)
      .optional()
      .describe('Personal data in events: off, report, mask (default) or drop'),
    trackerRules: z
      .string()
      .min(1)
      .optional()
      .describe('A ClearURLs-format rules file extending the built-in tracker list (query: known-trackers)'),
    browserRequests: z
      .enum(STRICTNESS.browserRequests)
      .optional()
      .describe(
        'Browser-side tool requests (client.fetch/execute): refuse (default) or allow (custom profile)',
      ),
  })
  .superRefine((privacy, ctx) => {
    for (const [key, message] of policyProblems(privacy))
      ctx.addIssue({ code: 'custom', path: [key], message });
  })
  .prefault({});

export const toolPrivacySchema = z
  .strictObject({
    query: z
      .union([
        z.enum(['keep', 'known-trackers', 'strip']),
        z.strictObject({ allow: z.array(z.string().min(1).max(100)).min(1) }),
      ])
      .optional(),
    ip: z.enum(STRICTNESS.ip).optional(),
    userAgent: z.enum(STRICTNESS.userAgent).optional(),
    referrer: z.enum(STRICTNESS.referrer).optional(),
    dlp: z.enum(STRICTNESS.dlp).optional(),
    clientId: z
      .union([z.enum(['keep', 'hashed']), z.strictObject({ constant: z.string().min(1).max(64) })])
      .optional()
      .describe('Client id the tool receives: hashed (default), constant or keep'),
  })
  .default({})
  .describe('Per-tool switches; each may only be stricter than the site’s');

export const toolSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a short lower-case name such as ga4 or hook')
    .describe('Name of this tool on this site (egress log, outbox, dashboard)'),
  component: z
    .string()
    .min(1)
    .describe(
      'Built-in component (ga4, meta, matomo, ua, webhook), a local path, or an installed npm package',
    ),
  purpose: z
    .string()
    .regex(/^[a-z0-9_-]{1,32}$/)
    .optional()
    .describe('Consent purpose; without one the tool receives events without consent'),
  region: z
    .enum(['eu', 'any'])
    .default('eu')
    .describe('eu: the tool may only send to the EU endpoints of its allow-list'),
  allowHosts: z
    .array(hostname)
    .default([])
    .describe(
      'Extra hosts the tool may send to (besides its manifest); only these may be private addresses or plain http. Added in the file only: the settings API refuses new ones',
    ),
  hosts: z
    .array(z.union([hostname, z.strictObject({ host: hostname, eu: z.boolean().default(false) })]))
    .max(50)
    .default([])
    .describe(
      'Public https hosts the tool may send to besides its manifest’s (a Cloudflare component’s manifest lists none); { host, eu: true } marks an EU endpoint',
    ),
  permissions: z
    .array(z.enum(PERMISSIONS))
    .optional()
    .describe(
      'What the tool may do, as Zaraz asks when a tool is added; default: what its manifest declares. Must hold what the manifest marks required; may grant what a component uses without declaring it',
    ),
  memoryMb: z
    .number()
    .int()
    .min(16)
    .max(2048)
    .default(64)
    .describe('Memory of the thread a component that is not built in runs in (MB); past it the tool stops'),
  actions: z
    .array(actionSchema)
    .max(50)
    .optional()
    .describe(
      'Which triggers send which events to this tool (Zaraz’s actions); without actions, every consented event',
    ),
  blockingTriggers: z
    .array(z.string())
    .max(20)
    .default([])
    .describe('Triggers whose events this tool never receives'),
  privacy: toolPrivacySchema,
  settings: z
    .record(z.string(), z.unknown())
    .default({})
    .describe('Settings of the component (its manifest)'),
});

/** A goal: an event name, or pages whose path matches a pattern (`*` any run of characters). */
export const goalSchema = z
  .strictObject({
    name: z.string().min(1).max(100).describe('Name shown in reports and the API'),
    event: z.string().min(1).max(200).optional().describe('An event name (zaraz.track name), e.g. signup'),
    path: z
      .string()
      .regex(/^\//, 'must start with /, e.g. /checkout/*')
      .max(1024)
      .optional()
      .describe('A page path pattern; * matches any run of characters, e.g. /checkout/*'),
  })
  .refine((goal) => (goal.event === undefined) !== (goal.path === undefined), {
    message: 'give event or path (one of them)',
  });

/** A funnel: goals reached in this order within one visit. */
export const funnelSchema = z.strictObject({
  name: z.string().min(1).max(100),
  steps: z.array(z.string().min(1)).min(2).max(8).describe('Names of goals of this site, in order'),
});

const purposeName = z
  .string()
  .regex(/^[a-z0-9_-]{1,32}$/, 'must be a short lower-case name such as marketing');

export const siteSchema = z.strictObject({
  host: hostname.describe('Main host name of the site, e.g. www.example.fr'),
  aliases: z.array(hostname).default([]).describe('Other host names that belong to this site'),
  timezone: z
    .string()
    .refine(isTimeZone, 'must be an IANA time zone such as Europe/Paris')
    .default('Europe/Paris')
    .describe('Time zone for daily salt rotation and local-time insights'),
  group: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a short lower-case name such as news or tv')
    .optional()
    .describe('Group of sites for group-level insights (news, tv, official…)'),
  privacy: privacySchema,
  consent: z
    .strictObject({
      purposes: z
        .array(purposeName)
        .default([])
        .describe('Consent purposes of this site, e.g. analytics, marketing'),
      tcf: z
        .strictObject({
          cookie: z
            .string()
            .regex(/^[A-Za-z0-9_.-]{1,64}$/)
            .default('euconsent-v2')
            .describe('The first-party cookie the CMP keeps the TC string in'),
          purposes: z
            .record(
              purposeName,
              z.strictObject({
                purposes: z
                  .array(z.number().int().min(1).max(11))
                  .min(1)
                  .describe('TCF purposes (1–11), all needed'),
                vendors: z
                  .array(z.number().int().min(1))
                  .default([])
                  .describe('Global Vendor List ids, all needed'),
              }),
            )
            .describe('Each Balise purpose and the TCF purposes (and vendors) that grant it'),
        })
        .optional()
        .describe('Read an IAB TCF v2.2 consent string when the visitor made no Balise choice'),
      gpc: z
        .array(purposeName)
        .default(['marketing'])
        .describe('Purposes a browser sending Sec-GPC: 1 (Global Privacy Control) refuses'),
    })
    .prefault({}),
  debugKey: z
    .string()
    .regex(/^[A-Za-z0-9_-]{16,128}$/, 'must be 16 to 128 letters, digits, _ or - (the dashboard makes one)')
    .optional()
    .describe(
      'Debug mode: a browser that called balise.debug(key) (or zaraz.debug) with this key sees what each tool received and sent for its own events; change it to revoke',
    ),
  proxy: proxySchema
    .optional()
    .describe(
      'Proxy mode: Balise in front of the site, the script injected, every request counted (docs/proxy.md)',
    ),
  triggers: z
    .array(triggerSchema)
    .max(100)
    .default([])
    .describe(
      'Named match rules on events, for tools[].actions and blockingTriggers (docs/tools.md#triggers-and-actions)',
    ),
  tools: z
    .array(toolSchema)
    .default([])
    .describe('Tools (Managed Components) that receive this site’s events'),
  goals: z.array(goalSchema).max(50).default([]).describe('Conversions to count (docs/insights.md#goals)'),
  funnels: z.array(funnelSchema).max(20).default([]).describe('Ordered goals within a visit'),
});
