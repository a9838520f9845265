import { z } from 'zod';
import { toolPolicyProblems } from '../privacy/policy.js';
import {
  adminSchema,
  clickhouseStoreSchema,
  CNIL_EXEMPT_MAX_MONTHS,
  duckdbStoreSchema,
  geoSchema,
  importSchema,
  jsonlMappingSchema,
  outboxSchema,
  serverSchema,
} from './service-schema.js';
import { alertsSchema } from './alerts-schema.js';
import { siteSchema, type toolSchema } from './site-schema.js';
import { triggerProblems } from './trigger-schema.js';

export { isCidr, isTimeZone } from './checks.js';
export { CNIL_EXEMPT_MAX_MONTHS } from './service-schema.js';

/** The one configuration schema: strict (unknown keys rejected), with every default inside. */
export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    server: serverSchema,
    store: z
      .discriminatedUnion('kind', [duckdbStoreSchema, clickhouseStoreSchema])
      .prefault({ kind: 'duckdb' }),
    geo: geoSchema,
    admin: adminSchema,
    import: importSchema,
    outbox: outboxSchema,
    alerts: alertsSchema,
    sites: z.array(siteSchema).min(1, 'add at least one site'),
  })
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    config.sites.forEach((site, index) => {
      [site.host, ...site.aliases].forEach((host, hostIndex) => {
        const first = seen.get(host);
        if (first !== undefined && first !== index) {
          ctx.addIssue({
            code: 'custom',
            path: ['sites', index, hostIndex === 0 ? 'host' : 'aliases'],
            message: `host ${host} already belongs to sites[${first}]; each host may belong to one site only`,
          });
        }
        seen.set(host, index);
      });
      const ids = new Set<string>();
      site.tools.forEach((tool, toolIndex) => {
        const path = ['sites', index, 'tools', toolIndex];
        if (ids.has(tool.id))
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'id'],
            message: `tool id ${tool.id} is used twice`,
          });
        ids.add(tool.id);
        if (tool.purpose && !site.consent.purposes.includes(tool.purpose))
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'purpose'],
            message: `purpose ${tool.purpose} is not in consent.purposes (${site.consent.purposes.join(', ') || 'none'})`,
          });
        for (const [key, message] of toolPolicyProblems(site.privacy, tool.privacy))
          ctx.addIssue({ code: 'custom', path: [...path, 'privacy', key], message });
      });
      for (const purpose of Object.keys(site.consent.tcf?.purposes ?? {}))
        if (!site.consent.purposes.includes(purpose))
          ctx.addIssue({
            code: 'custom',
            path: ['sites', index, 'consent', 'tcf', 'purposes', purpose],
            message: `purpose ${purpose} is not in consent.purposes (${site.consent.purposes.join(', ') || 'none'})`,
          });
      for (const problem of triggerProblems(site))
        ctx.addIssue({ code: 'custom', path: ['sites', index, ...problem.path], message: problem.message });
      const goals = new Set<string>();
      site.goals.forEach((goal, goalIndex) => {
        if (goals.has(goal.name))
          ctx.addIssue({
            code: 'custom',
            path: ['sites', index, 'goals', goalIndex, 'name'],
            message: `goal ${goal.name} is named twice`,
          });
        goals.add(goal.name);
      });
      site.funnels.forEach((funnel, funnelIndex) =>
        funnel.steps.forEach((step, stepIndex) => {
          if (!goals.has(step))
            ctx.addIssue({
              code: 'custom',
              path: ['sites', index, 'funnels', funnelIndex, 'steps', stepIndex],
              message: `step ${step} is not a goal of this site (goals: ${[...goals].join(', ') || 'none'})`,
            });
        }),
      );
      if (site.privacy.profile === 'cnil-exempt' && config.store.retention > CNIL_EXEMPT_MAX_MONTHS)
        ctx.addIssue({
          code: 'custom',
          path: ['store', 'retention'],
          message: `site ${site.host} uses cnil-exempt, whose conditions keep data ${CNIL_EXEMPT_MAX_MONTHS} months at most; set retention to ${CNIL_EXEMPT_MAX_MONTHS} or less`,
        });
      if (site.privacy.profile === 'off' && config.server.mode !== 'development') {
        ctx.addIssue({
          code: 'custom',
          path: ['sites', index, 'privacy', 'profile'],
          message: 'profile off is refused in production; use cnil-proxy, or set server.mode: development',
        });
      }
    });
  });

/** Configuration as written in the YAML file (defaults not yet applied). */
export type ConfigInput = z.input<typeof configSchema>;
/** Validated configuration with every default applied. */
export type Config = z.output<typeof configSchema>;
/** One site of the validated configuration. */
export type SiteConfig = Config['sites'][number];

/** A JSON-lines field mapping (`import.jsonl.NAME`, or the built-in cloudflare preset). */
export type JsonlMapping = z.output<typeof jsonlMappingSchema>;

/** One site's configuration with defaults applied. */
export type ToolConfig = z.output<typeof toolSchema>;
