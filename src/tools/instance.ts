import type { MCEvent } from '@managed-components/types';
import type { SiteConfig, ToolConfig } from '../config/schema.js';
import { toolPolicy, type ToolPolicy } from '../privacy/policy.js';
import type { TrackerList } from '../privacy/trackers.js';
import type { ComponentModule } from './components.js';
import type { EgressRules, OutgoingRequest } from './egress.js';
import { secretValues } from './debug.js';
import type { DispatchContext } from './manager.js';
import type { Manifest, Permission } from './manifest.js';
import type { BatchRule } from './outbox.js';
import type { Sandbox } from './sandbox/host.js';
import type { Matcher } from './triggers.js';

/** Counters per site and tool, for /metrics and the dashboard. */
export interface ToolStats {
  events: number;
  deliveries: number;
  blocked: number;
  errors: number;
  timeouts: number;
  consentDenied: number;
  dlpBlocked: number;
  refusedBrowserRequests: number;
  permissionDenied: number;
  /** Event properties named like a setting, removed before the tool saw them. */
  overridesDropped: number;
  dlpFindings: Record<string, number>;
  /** Why the tool stopped for good (its sandbox ran out of memory or time), or null. */
  disabled: string | null;
}

/** A call the component's manifest does not permit. */
export class PermissionError extends Error {}

/** Names published components read from an event as if they were settings. */
const SETTING_NAMES = [
  'accessToken',
  'apiKey',
  'apiSecret',
  'conversionId',
  'endpoint',
  'htmlCode',
  'measurementId',
  'pixelCode',
  'pixelId',
  'tid',
  'token',
];

/** Most values a tool may keep in its own storage, cache or client values (bounded memory). */
export const MAX_KV = 100_000;

/** A component's event listener. */
export type Listener = (event: MCEvent) => void | Promise<void>;

/** One configured tool of one site: its component, manager, listeners and policy. */
export class ToolInstance {
  readonly listeners = new Map<string, Listener[]>();
  readonly clientListeners = new Map<string, Listener[]>();
  readonly routes = new Map<string, (request: unknown) => unknown>();
  readonly embeds = new Map<string, unknown>();
  readonly widgets: unknown[] = [];
  readonly kv = new Map<string, unknown>();
  readonly cache = new Map<string, { value: unknown; expires: number }>();
  readonly stats: ToolStats = {
    events: 0,
    deliveries: 0,
    blocked: 0,
    errors: 0,
    timeouts: 0,
    consentDenied: 0,
    dlpBlocked: 0,
    refusedBrowserRequests: 0,
    permissionDenied: 0,
    overridesDropped: 0,
    dlpFindings: {},
    disabled: null,
  };
  warnedBrowser = false;
  /** The component's worker thread, when it is not the gateway's own code (built-in or embedded). */
  sandbox: Sandbox | null = null;
  /**
   * One of Balise's built-in components, whose listeners call `manager.fetch` before they first
   * wait: the event they run for is known without tracking it across awaits.
   */
  builtin = false;
  /** The site's triggers, compiled (for the tool's actions and blocking triggers). */
  triggers: ReadonlyMap<string, Matcher> = new Map();
  /** The events a sandboxed component is running for, by dispatch number (its fetches name them). */
  readonly sandboxContexts = new Map<number, DispatchContext>();
  /** What the operator granted (`tools[].permissions`), else what the manifest declares. */
  readonly granted: ReadonlySet<Permission>;
  readonly policy: ToolPolicy;
  /** Which policy allowed a request, for the egress log (e.g. `ga4 region=eu … dlp=mask`). */
  readonly policyLabel: string;
  /** Tools with the same key see the same privacy view of an event (computed once per dispatch). */
  readonly viewKey: string;
  readonly rules: EgressRules;
  /** Hosts listed in `allowHosts` (may be private addresses, may use http). */
  readonly operatorHosts: string[];
  /** The host of a `url` setting: allowed, https and public only. */
  readonly settingsHosts: string[];
  /**
   * Event properties a component could take for one of its settings (`accessToken`, `pixelCode`,
   * `__setting_endpoint`…): removed from what the tool sees, so that a visitor cannot choose where
   * or to which account the tool sends.
   */
  readonly settingNames: ReadonlySet<string>;
  /** Values of its settings that are secrets, masked in what debug mode shows. */
  readonly secrets: readonly string[];
  /** How the outbox may batch this tool's requests (from the manifest), if at all. */
  readonly batchRule: BatchRule | undefined;

  constructor(
    readonly site: SiteConfig,
    readonly tool: ToolConfig,
    readonly manifest: Manifest,
    readonly trackers: TrackerList,
    maxBodyBytes: number,
    seal?: ComponentModule['seal'],
    /** `outbox.allowHosts`: hosts every tool may reach, private or http (config file only). */
    gatewayHosts: readonly string[] = [],
    granted: readonly Permission[] = manifest.permissions,
  ) {
    this.granted = new Set(granted);
    this.secrets = secretValues(tool, manifest);
    this.settingNames = new Set([
      ...SETTING_NAMES,
      ...Object.keys(tool.settings),
      ...Object.keys(manifest.settings),
    ]);
    this.policy = toolPolicy(site, tool);
    const p = this.policy;
    const query = typeof p.query === 'object' ? `allow(${p.query.allow.join(',')})` : p.query;
    const clientId = typeof p.clientId === 'object' ? 'constant' : p.clientId;
    this.policyLabel = `${tool.id} region=${tool.region} query=${query} ip=${p.ip} ua=${p.userAgent} referrer=${p.referrer} clientId=${clientId} dlp=${p.dlp}`;
    this.viewKey = JSON.stringify([p.query, p.ip, p.userAgent, p.referrer, p.clientId, p.dlp]);
    // The host of a `url` setting (a webhook's) is a destination, but a public https one: the
    // setting can come from the settings API, so it never opens private addresses or plain http
    // (SSRF); only allowHosts, written in the configuration file, does.
    const settingsHost = typeof tool.settings.url === 'string' ? hostOf(tool.settings.url) : null;
    this.operatorHosts = [...new Set([...tool.allowHosts, ...gatewayHosts])];
    this.settingsHosts = settingsHost && !this.operatorHosts.includes(settingsHost) ? [settingsHost] : [];
    const batch = manifest.batch;
    this.batchRule = batch && {
      field: batch.field,
      max: batch.max,
      maxBytes: Math.min(batch.maxBytes ?? maxBodyBytes, maxBodyBytes),
      vary: batch.vary,
      ...(seal ? { seal: (request: OutgoingRequest) => seal(request, { ...tool.settings }) } : {}),
    };
    this.rules = {
      manifestHosts: manifest.hosts,
      operatorHosts: this.operatorHosts,
      settingsHosts: this.settingsHosts,
      region: tool.region,
      dlp: this.policy.dlp,
      maxBodyBytes,
      // Made again by the component's seal when the request leaves: what it wrote is not sent.
      ...(this.batchRule?.seal ? { sealedHeaders: this.batchRule.vary } : {}),
    };
  }

  get name(): string {
    return `${this.site.host}/${this.tool.id}`;
  }

  can(permission: Permission): boolean {
    return this.granted.has(permission);
  }
}

/** The lower-case host of a URL, or null when it is not one. */
export function hostOf(url: string): string | null {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return null;
  }
}
