import type { QueryRule } from './query.js';
import type { DlpMode } from './dlp/scan.js';
import type { ClientIdRule } from './client-id.js';

/** Values of each switch, least strict first (docs/privacy.md). A tool may only move right. */
export const STRICTNESS = {
  query: ['keep', 'known-trackers', 'allow', 'strip'],
  ip: ['keep', 'trim', 'hide'],
  userAgent: ['keep', 'reduce', 'remove'],
  referrer: ['keep', 'strip-external', 'remove'],
  dlp: ['off', 'report', 'mask', 'drop'],
  browserRequests: ['allow', 'refuse'],
} as const;

/** The privacy profiles. */
export const PROFILES = ['cnil-proxy', 'cnil-exempt', 'custom', 'off'] as const;

/** One of the privacy profiles. */
export type Profile = (typeof PROFILES)[number];

/** The effective switches of a site. */
export interface Policy {
  profile: Profile;
  query: QueryRule;
  ip: (typeof STRICTNESS.ip)[number];
  userAgent: (typeof STRICTNESS.userAgent)[number];
  referrer: (typeof STRICTNESS.referrer)[number];
  dlp: DlpMode;
  /** Browser-side tool requests (`client.fetch`, `client.execute`): refused unless `allow`. */
  browserRequests: (typeof STRICTNESS.browserRequests)[number];
}

/** Switches as written in the config (every one optional). */
export type PolicyInput = Partial<Omit<Policy, 'profile'>> & { profile: Profile };

/**
 * What each profile means. `cnil-proxy` and `cnil-exempt` hold the CNIL proxy conditions: URL
 * parameters removed, no IP to a vendor, fingerprinting data generalised (reduced UA), external
 * referrers removed, personal data masked. `custom` starts from the same values and lets every
 * switch be set by hand; `off` keeps everything (development mode only).
 */
export const PROFILE_DEFAULTS: Record<Profile, Omit<Policy, 'profile'>> = (() => {
  const strict: Omit<Policy, 'profile'> = {
    query: 'strip',
    ip: 'hide',
    userAgent: 'reduce',
    referrer: 'strip-external',
    dlp: 'mask',
    browserRequests: 'refuse',
  };
  return {
    'cnil-proxy': strict,
    'cnil-exempt': strict,
    custom: strict,
    off: {
      query: 'keep',
      ip: 'keep',
      userAgent: 'keep',
      referrer: 'keep',
      dlp: 'off',
      browserRequests: 'allow',
    },
  };
})();

/** Position of a switch value in its strictness order (an `allow` list counts as `allow`). */
export function strictness(
  key: keyof typeof STRICTNESS,
  value: string | { allow: readonly string[] },
): number {
  const name = typeof value === 'object' ? 'allow' : value;
  return (STRICTNESS[key] as readonly string[]).indexOf(name);
}

/**
 * Problems with a site's switches: under `cnil-proxy` and `cnil-exempt` a switch may be set only
 * to a value at least as strict as the profile's. Each problem is [switch, message].
 */
export function policyProblems(input: PolicyInput): [keyof typeof STRICTNESS, string][] {
  if (input.profile === 'custom' || input.profile === 'off') return [];
  const defaults = PROFILE_DEFAULTS[input.profile];
  const problems: [keyof typeof STRICTNESS, string][] = [];
  for (const key of Object.keys(STRICTNESS) as (keyof typeof STRICTNESS)[]) {
    const value = input[key];
    if (value !== undefined && strictness(key, value) < strictness(key, defaults[key])) {
      const wanted = JSON.stringify(defaults[key]);
      problems.push([
        key,
        `profile ${input.profile} requires ${key}: ${wanted} or stricter; use profile: custom to loosen it`,
      ]);
    }
  }
  return problems;
}

/** The effective policy: the profile's values, overridden by what the site sets. */
export function resolvePolicy(input: PolicyInput): Policy {
  const defaults = PROFILE_DEFAULTS[input.profile];
  return {
    profile: input.profile,
    query: input.query ?? defaults.query,
    ip: input.ip ?? defaults.ip,
    userAgent: input.userAgent ?? defaults.userAgent,
    referrer: input.referrer ?? defaults.referrer,
    dlp: input.dlp ?? defaults.dlp,
    browserRequests: input.browserRequests ?? defaults.browserRequests,
  };
}

const resolved = new WeakMap<object, Policy>();

/** The effective policy of a (frozen) site config, computed once per site. */
export function sitePolicy(site: { privacy: PolicyInput }): Policy {
  let policy = resolved.get(site);
  if (!policy) {
    policy = resolvePolicy(site.privacy);
    resolved.set(site, policy);
  }
  return policy;
}

/** Per-tool switches as written in the config. */
export interface ToolPolicyInput {
  query?: QueryRule;
  ip?: Policy['ip'];
  userAgent?: Policy['userAgent'];
  referrer?: Policy['referrer'];
  dlp?: DlpMode;
  clientId?: ClientIdRule;
}

/** What one tool receives: the site's policy made stricter by the tool's own switches. */
export interface ToolPolicy extends Policy {
  clientId: ClientIdRule;
}

const TOOL_SWITCHES = ['query', 'ip', 'userAgent', 'referrer', 'dlp'] as const;

/**
 * Problems with a tool's switches: each may only be as strict as the site's or stricter (an
 * `allow` list must name only parameters the site's list allows); `clientId: keep` is refused
 * under the CNIL profiles (vendor ids are never read there).
 */
export function toolPolicyProblems(site: PolicyInput, tool: ToolPolicyInput): [string, string][] {
  const effective = resolvePolicy(site);
  const problems: [string, string][] = [];
  for (const key of TOOL_SWITCHES) {
    const value = tool[key];
    if (value === undefined) continue;
    const siteValue = effective[key];
    if (strictness(key, value) < strictness(key, siteValue)) {
      problems.push([
        key,
        `a tool may only be stricter than its site: the site has ${key}: ${JSON.stringify(siteValue)}`,
      ]);
    } else if (key === 'query' && typeof value === 'object' && typeof siteValue === 'object') {
      const extra = value.allow.filter((name) => !siteValue.allow.includes(name));
      if (extra.length) problems.push([key, `the site does not allow ${extra.join(', ')}`]);
    }
  }
  if (tool.clientId === 'keep' && (site.profile === 'cnil-proxy' || site.profile === 'cnil-exempt'))
    problems.push([
      'clientId',
      `clientId: keep is refused under ${site.profile} (vendor ids are never read)`,
    ]);
  return problems;
}

/** The effective policy of one tool of a site (site policy, then the tool's stricter switches). */
export function toolPolicy(site: { privacy: PolicyInput }, tool: { privacy: ToolPolicyInput }): ToolPolicy {
  const base = sitePolicy(site);
  return {
    ...base,
    ...Object.fromEntries(
      TOOL_SWITCHES.flatMap((key) => (tool.privacy[key] === undefined ? [] : [[key, tool.privacy[key]]])),
    ),
    clientId: tool.privacy.clientId ?? 'hashed',
  };
}
