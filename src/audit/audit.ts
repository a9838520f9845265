import type { Config, SiteConfig, ToolConfig } from '../config/schema.js';
import { sitePolicy, toolPolicy, type ToolPolicy } from '../privacy/policy.js';
import type { Manifest } from '../tools/manifest.js';

/** The CNIL's conditions for an analytics proxy, as `balise audit` checks them, in order. */
export const CONDITIONS = [
  { id: 'ip_not_sent', title: 'No IP address is sent to a tool' },
  {
    id: 'identifier_replaced',
    title: 'Identifiers are replaced by the gateway and rotate (no vendor id read)',
  },
  { id: 'external_referrer_removed', title: 'External referrers are removed' },
  { id: 'url_parameters_removed', title: 'URL parameters that may identify are removed' },
  { id: 'fingerprinting_reworked', title: 'Fingerprinting data (User-Agent) is generalised' },
  { id: 'no_cross_site_identifier', title: 'No identifier that follows a visitor across sites' },
  {
    id: 'no_other_identifying_data',
    title: 'No other identifying data (data-loss prevention masks or drops it)',
  },
  { id: 'eu_hosting_and_transfers', title: 'Data stays in the EU: storage, and every host contacted' },
] as const;

/** One condition's id. */
export type ConditionId = (typeof CONDITIONS)[number]['id'];

/** One piece of evidence: a site (and tool) and what its configuration and the egress log say. */
export interface Evidence {
  site: string;
  tool: string | null;
  ok: boolean;
  /** What the configuration in force sets. */
  config: string;
  /** What the egress log shows over the period (requests that left, by the policy applied). */
  observed: string;
}

/** One condition, met or not, with its evidence. */
export interface ConditionResult {
  id: ConditionId;
  title: string;
  ok: boolean;
  evidence: Evidence[];
}

/** What `balise audit` (and `GET /api/v1/audit`) answers. */
export interface AuditReport {
  generatedAt: string;
  period: { from: string; to: string };
  ok: boolean;
  /** Ids of the conditions that fail. */
  failed: ConditionId[];
  conditions: ConditionResult[];
  /** Hosts the tools contacted over the period, with their region and how many requests left. */
  hosts: {
    site: string;
    tool: string;
    host: string;
    region: string;
    sent: number;
    blocked: number;
    failed: number;
    /** Names of the fields the requests sent there carried (never values). */
    fields: string[];
  }[];
}

/** Egress-log records over the period, counted by site, tool, host, policy and outcome. */
export interface EgressAggregate {
  site: string;
  tool: string;
  host: string;
  policy: string;
  outcome: string;
  /** Comma-joined field names the requests carried (null when none or not recorded). */
  fields: string | null;
  n: number;
}

/** A policy label as the egress log keeps it (`ga4 region=eu query=strip ip=hide …`), read back. */
function readLabel(label: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of label.split(' ').slice(1)) {
    const at = part.indexOf('=');
    if (at > 0) out[part.slice(0, at)] = part.slice(at + 1);
  }
  return out;
}

const queryText = (rule: ToolPolicy['query']): string =>
  typeof rule === 'object' ? `allow(${rule.allow.join(',')})` : rule;

interface Rule {
  /** Whether a tool's effective policy meets the condition, and how it reads. */
  tool: (policy: ToolPolicy, tool: ToolConfig) => { ok: boolean; config: string };
  /** Whether one observed policy label meets it. */
  label: (label: Record<string, string>) => boolean;
  /** What the stored events show (the site's own policy), for a site without tools too. */
  store: (site: SiteConfig) => { ok: boolean; config: string };
}

const RULES: Record<ConditionId, Rule> = {
  ip_not_sent: {
    tool: (p) => ({ ok: p.ip === 'hide', config: `ip: ${p.ip}` }),
    label: (l) => l.ip === 'hide',
    store: () => ({
      ok: true,
      config: 'store: no IP is ever stored (country looked up, then the address dropped)',
    }),
  },
  identifier_replaced: {
    tool: (p) => ({
      ok: p.clientId !== 'keep',
      config: `clientId: ${typeof p.clientId === 'object' ? 'constant' : p.clientId}${p.clientId === 'hashed' ? ' (the visitor hash of the day: salt random per day, deleted after a day)' : ''}`,
    }),
    label: (l) => l.clientId !== undefined && l.clientId !== 'keep',
    store: () => ({
      ok: true,
      config: 'store: a 64-bit hash per site and day, its salt random and deleted the next day',
    }),
  },
  external_referrer_removed: {
    tool: (p) => ({ ok: p.referrer !== 'keep', config: `referrer: ${p.referrer}` }),
    label: (l) => l.referrer !== undefined && l.referrer !== 'keep',
    store: (site) => {
      const p = sitePolicy(site);
      return { ok: true, config: `store: referrer host and class only (${p.referrer})` };
    },
  },
  url_parameters_removed: {
    tool: (p) => ({
      ok: p.query === 'strip' || typeof p.query === 'object',
      config: `query: ${queryText(p.query)}${typeof p.query === 'object' ? ' (check that these carry nothing personal)' : ''}`,
    }),
    label: (l) => l.query === 'strip' || (l.query ?? '').startsWith('allow('),
    store: (site) => {
      const p = sitePolicy(site);
      return {
        ok: true,
        config: `store: path only${typeof p.query === 'object' ? `, plus ${p.query.allow.join(', ')}` : ''}; never the fragment`,
      };
    },
  },
  fingerprinting_reworked: {
    tool: (p) => ({ ok: p.userAgent !== 'keep', config: `userAgent: ${p.userAgent}` }),
    label: (l) => l.ua !== undefined && l.ua !== 'keep',
    store: () => ({
      ok: true,
      config: 'store: browser and OS families, device type, bot flag — never the User-Agent',
    }),
  },
  no_cross_site_identifier: {
    tool: (p) => ({
      ok: p.clientId !== 'keep',
      config:
        p.clientId === 'keep'
          ? 'clientId: keep (the vendor’s own id travels)'
          : 'vendor ids are never read; the visitor hash includes the site',
    }),
    label: (l) => l.clientId !== 'keep',
    store: () => ({ ok: true, config: 'store: the visitor hash includes the site and the day' }),
  },
  no_other_identifying_data: {
    tool: (p) => ({ ok: p.dlp === 'mask' || p.dlp === 'drop', config: `dlp: ${p.dlp}` }),
    label: (l) => l.dlp === 'mask' || l.dlp === 'drop',
    store: (site) => {
      const p = sitePolicy(site);
      return { ok: p.dlp === 'mask' || p.dlp === 'drop', config: `store: dlp ${p.dlp}` };
    },
  },
  eu_hosting_and_transfers: {
    tool: (_p, tool) => ({ ok: tool.region === 'eu', config: `region: ${tool.region}` }),
    label: (l) => l.region === 'eu',
    store: () => ({ ok: true, config: 'store: an embedded DuckDB file on the operator’s own server' }),
  },
};

/**
 * Checks every site and tool of `config` against the CNIL's conditions for an analytics proxy:
 * each condition with its evidence from the configuration and from the egress log over the
 * period (`egress`: what left, under which policy, to which hosts). Pure: the caller reads the
 * egress log and the components' manifests.
 */
export function audit(
  config: Config,
  egress: readonly EgressAggregate[],
  manifests: Record<string, Manifest>,
  period: { from: number; to: number },
  now = Date.now(),
): AuditReport {
  const conditions: ConditionResult[] = CONDITIONS.map(({ id, title }) => ({
    id,
    title,
    ok: true,
    evidence: [],
  }));
  const hosts: AuditReport['hosts'] = [];
  for (const site of config.sites) {
    for (const condition of conditions) {
      const rule = RULES[condition.id];
      const store = rule.store(site);
      condition.evidence.push({
        site: site.host,
        tool: null,
        ok: store.ok,
        config: store.config,
        observed: '—',
      });
    }
    for (const tool of site.tools) {
      const policy = toolPolicy(site, tool);
      const records = egress.filter((r) => r.site === site.host && r.tool === tool.id);
      const sent = records.filter((r) => r.outcome === 'sent');
      const labels = new Map<string, number>();
      for (const r of sent) labels.set(r.policy, (labels.get(r.policy) ?? 0) + r.n);
      for (const condition of conditions) {
        const rule = RULES[condition.id];
        const configured = rule.tool(policy, tool);
        const bad = [...labels].filter(([label]) => !rule.label(readLabel(label)));
        const total = [...labels.values()].reduce((a, b) => a + b, 0);
        let ok = configured.ok && bad.length === 0;
        let observed =
          total === 0
            ? 'no request left in the period'
            : bad.length === 0
              ? `${total} request(s) left, every one under a policy that meets it`
              : `${bad.reduce((a, [, n]) => a + n, 0)} of ${total} request(s) left under ${bad.map(([l]) => `"${l}"`).join(', ')}`;
        if (condition.id === 'eu_hosting_and_transfers') {
          const region = hostRegions(tool, manifests[tool.component], config);
          const contacted = new Map<
            string,
            { sent: number; blocked: number; failed: number; fields: string[] }
          >();
          for (const r of records) {
            const c = contacted.get(r.host) ?? { sent: 0, blocked: 0, failed: 0, fields: [] };
            if (r.outcome === 'sent' && r.fields)
              for (const name of r.fields.split(',')) if (!c.fields.includes(name)) c.fields.push(name);
            if (r.outcome === 'sent') c.sent += r.n;
            else if (r.outcome === 'blocked') c.blocked += r.n;
            else c.failed += r.n;
            contacted.set(r.host, c);
          }
          const outside: string[] = [];
          for (const [host, c] of contacted) {
            const where = region(host);
            hosts.push({
              site: site.host,
              tool: tool.id,
              host,
              region: where,
              ...c,
              fields: c.fields.sort(),
            });
            if (c.sent > 0 && where === 'outside the EU or unknown') outside.push(host);
          }
          if (outside.length > 0) ok = false;
          observed =
            contacted.size === 0
              ? 'no host contacted in the period'
              : [...contacted]
                  .map(
                    ([host, c]) =>
                      `${host} (${region(host)}): ${c.sent} sent, ${c.blocked} blocked, ${c.failed} retried or dead`,
                  )
                  .join('; ');
        }
        if (condition.id === 'no_other_identifying_data') {
          const names = [...new Set(sent.flatMap((r) => (r.fields ? r.fields.split(',') : [])))].sort();
          if (names.length > 0) observed += `; fields sent: ${names.join(', ')}`;
        }
        condition.evidence.push({ site: site.host, tool: tool.id, ok, config: configured.config, observed });
      }
    }
  }
  for (const condition of conditions) condition.ok = condition.evidence.every((e) => e.ok);
  const failed = conditions.filter((c) => !c.ok).map((c) => c.id);
  return {
    generatedAt: new Date(now).toISOString(),
    period: { from: new Date(period.from).toISOString(), to: new Date(period.to).toISOString() },
    ok: failed.length === 0,
    failed,
    conditions,
    hosts,
  };
}

/** Where a host a tool contacted is, as far as the gateway knows. */
function hostRegions(
  tool: ToolConfig,
  manifest: Manifest | undefined,
  config: Config,
): (host: string) => string {
  const settingsHost = (() => {
    try {
      return typeof tool.settings.url === 'string' ? new URL(tool.settings.url).hostname.toLowerCase() : null;
    } catch {
      return null;
    }
  })();
  return (hostAndPort) => {
    // The egress log keeps the URL's host with its port (`127.0.0.1:8080`, `[::1]:8080`).
    const bracketed = /^\[([^\]]+)\]/.exec(hostAndPort);
    const host = bracketed ? bracketed[1]! : hostAndPort.replace(/^([^:]+):\d+$/, '$1');
    const known = manifest?.hosts.find((h) => h.host === host);
    if (known?.eu) return 'EU endpoint (manifest)';
    if (tool.allowHosts.includes(host) || config.outbox.allowHosts.includes(host))
      return 'the operator’s own (allowHosts)';
    if (host === settingsHost) return 'the operator’s endpoint (url setting)';
    return 'outside the EU or unknown';
  };
}
