import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Client, ComponentSettings, MCEvent, Manager } from '@managed-components/types';
import type { Config, SiteConfig, ToolConfig } from '../config/schema.js';
import type { RawEvent } from '../pipeline/event.js';
import { loadClearUrlsRules } from '../privacy/clearurls.js';
import { toolPolicy, type ToolPolicy } from '../privacy/policy.js';
import { BUILTIN_TRACKERS, type TrackerList } from '../privacy/trackers.js';
import type { EventRow } from '../store/row.js';
import * as ga4 from './builtins/ga4.js';
import * as matomo from './builtins/matomo.js';
import * as meta from './builtins/meta.js';
import * as ua from './builtins/ua.js';
import * as webhook from './builtins/webhook.js';
import { privacyView, type PrivacyView } from './client-view.js';
import { checkRequest, type EgressRules, type OutgoingRequest } from './egress.js';
import { manifestSchema, type Manifest, type Permission } from './manifest.js';
import { HookTimeout, withTimeout } from './timeout.js';
import type { BatchRule, Delivery, EgressRecord, Outbox } from './outbox.js';

/** A Managed Component module: its default export and its manifest. */
export interface ComponentModule {
  default: (manager: Manager, settings: ComponentSettings) => void | Promise<void>;
  manifest: unknown;
  /**
   * Balise extension: re-makes the headers the manifest's `batch.vary` names (e.g. a signature)
   * of a request as it is sent — alone or as a batch. Only those headers are taken from it.
   */
  seal?: (request: OutgoingRequest, settings: ComponentSettings) => OutgoingRequest;
}

/** Built-in components by the name used in `tools[].component`. */
export const BUILTIN_COMPONENTS: Record<string, ComponentModule> = {
  ga4,
  meta,
  matomo,
  ua,
  webhook,
};

/** The settings a manifest requires that a tool's config leaves out or empty. */
export function missingSettings(manifest: Manifest, settings: Record<string, unknown>): string[] {
  return Object.entries(manifest.settings)
    .filter(([name, spec]) => spec.required && (settings[name] === undefined || settings[name] === ''))
    .map(([name]) => name);
}

/** A component or tool that cannot start, with what to fix. */
export class ToolError extends Error {}

/** A call the component's manifest does not permit. */
export class PermissionError extends Error {}

/** What the browser is asked to do after an event (the track protocol's answer). */
export interface BrowserActions {
  fetch: [string, RequestInit][];
  execute: string[];
  return: Record<string, unknown>;
}

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
  dlpFindings: Record<string, number>;
}

/** Options of the runtime. */
export interface RuntimeOptions {
  /** Longest a component's setup or one of its event listeners may run (ms, default 2000). */
  hookTimeoutMs?: number;
  /** Where warnings go (a refused browser request is reported once per tool). */
  warn?: (line: string) => void;
  /** Receives blocked requests for the egress log (the outbox logs what it sends). */
  egressLog?: (record: EgressRecord) => void;
  /** Extra modules by name (tests, embedding). */
  components?: Record<string, ComponentModule>;
}

interface DispatchContext {
  eventId: string;
  /** Values the gateway made for this event and tool (id, IP and User-Agent as the policy left them, client id). */
  produced: ReadonlySet<string>;
  site: SiteConfig;
  deliveries: Delivery[];
  actions: BrowserActions;
  counter: number;
}

type Listener = (event: MCEvent) => void | Promise<void>;

const SESSION_MS = 30 * 60_000;
const DAY_MS = 86_400_000;
const MAX_KV = 100_000;

/** One configured tool of one site: its component, manager, listeners and policy. */
class ToolInstance {
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
    dlpFindings: {},
  };
  warnedBrowser = false;
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
  ) {
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
    return this.manifest.permissions.includes(permission);
  }
}

/**
 * A `fetch` init's headers as a plain object with lower-case names: an object literal (what
 * components pass) is read directly; a `Headers` or an array of pairs goes through `Headers`.
 */
function plainHeaders(init: RequestInit['headers']): Record<string, string> {
  const headers: Record<string, string> = {};
  if (init === undefined) return headers;
  if (init instanceof Headers || Array.isArray(init)) {
    for (const [key, value] of new Headers(init).entries()) headers[key] = value;
    return headers;
  }
  for (const [key, value] of Object.entries(init)) {
    const text = String(value).trim();
    // Anything Headers would refuse goes through it, for its error.
    if (!HEADER_NAME.test(key) || /[\r\n\0]/.test(text)) return plainHeaders(new Headers(init));
    const name = key.toLowerCase();
    // As Headers does: a repeated name (in other case) is joined with a comma.
    headers[name] = name in headers ? `${headers[name]}, ${text}` : text;
  }
  return headers;
}

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function isEmpty(object: object): boolean {
  for (const _ in object) return false;
  return true;
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return null;
  }
}

/** Loads a component: a built-in name, a local path (./ or /), or an installed npm package. */
export async function loadComponent(
  spec: string,
  baseDir: string,
  extra: Record<string, ComponentModule>,
): Promise<ComponentModule> {
  const known = extra[spec] ?? BUILTIN_COMPONENTS[spec];
  if (known) return known;
  const target =
    spec.startsWith('.') || spec.startsWith('/') ? pathToFileURL(resolve(baseDir, spec)).href : spec;
  let module: Partial<ComponentModule>;
  try {
    module = (await import(target)) as Partial<ComponentModule>;
  } catch (error) {
    throw new ToolError(
      `component ${spec} cannot be loaded (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); use a built-in (${Object.keys(BUILTIN_COMPONENTS).join(', ')}), a path, or an installed package`,
    );
  }
  if (typeof module.default !== 'function')
    throw new ToolError(`component ${spec} has no default export function`);
  return module as ComponentModule;
}

/**
 * The tools runtime: every site's tools, each a Managed Component run with a `Manager` whose
 * calls are checked against its manifest's permissions, whose storage is its own, and whose
 * `fetch` goes through the egress guard into the durable outbox. Events reach a tool as an
 * `MCEvent` whose `client` is the privacy view for that tool; a throwing or hanging component
 * is isolated (errors and timeouts are counted, the others go on).
 */
export class ToolRuntime {
  private tools = new Map<string, ToolInstance[]>();
  private readonly context = new AsyncLocalStorage<DispatchContext>();
  /**
   * Client values set with session or infinite scope, per tool and visitor hash: kept in this
   * gateway's memory (bounded), never in a browser cookie; the visitor hash changes every day,
   * so nothing outlives the day's salt.
   */
  private readonly clientKv = new Map<string, { value: string; expires: number }>();
  private readonly hookTimeoutMs: number;
  private readonly warn: (line: string) => void;

  private constructor(
    private readonly outbox: Outbox,
    private readonly options: RuntimeOptions,
    private readonly baseDir: string,
  ) {
    this.hookTimeoutMs = options.hookTimeoutMs ?? 2000;
    this.warn = options.warn ?? (() => undefined);
  }

  /**
   * Loads and starts every configured tool. A manifest is validated (permissions from the closed
   * enum, hosts, required settings) before the component's code runs; a tool that cannot start
   * throws a ToolError naming it. `region: eu` needs an EU endpoint in the manifest (or a host the
   * operator lists).
   */
  static async start(
    config: Config,
    outbox: Outbox,
    options: RuntimeOptions = {},
    baseDir = process.cwd(),
  ): Promise<ToolRuntime> {
    const runtime = new ToolRuntime(outbox, options, baseDir);
    runtime.tools = await runtime.load(config);
    outbox.setBatching(
      (site, tool) => runtime.tools.get(site)?.find((instance) => instance.tool.id === tool)?.batchRule,
    );
    return runtime;
  }

  /**
   * Loads and starts the tools of a new configuration beside the running ones (the same checks as
   * at start; a ToolError leaves the running tools untouched) and returns the function that
   * switches to them. Deliveries already in the outbox are not affected: they carry their request.
   */
  async prepare(config: Config): Promise<() => void> {
    const next = await this.load(config);
    return () => {
      const previous = this.stats();
      for (const instances of next.values())
        for (const instance of instances) {
          const kept = previous[instance.name];
          if (kept) Object.assign(instance.stats, kept);
        }
      this.tools = next;
    };
  }

  /** The manifests of the built-in components and of every component loaded now, by component name. */
  manifests(): Record<string, Manifest> {
    const out: Record<string, Manifest> = {};
    for (const [name, module] of Object.entries(BUILTIN_COMPONENTS))
      out[name] = manifestSchema.parse(module.manifest);
    for (const instances of this.tools.values())
      for (const instance of instances) out[instance.tool.component] ??= instance.manifest;
    return out;
  }

  private async load(config: Config): Promise<Map<string, ToolInstance[]>> {
    const options = this.options;
    const baseDir = this.baseDir;
    const loaded = new Map<string, ToolInstance[]>();
    for (const site of config.sites) {
      const trackers = site.privacy.trackerRules
        ? loadClearUrlsRules(site.privacy.trackerRules)
        : BUILTIN_TRACKERS;
      const instances: ToolInstance[] = [];
      for (const tool of site.tools) {
        const where = `sites[${site.host}].tools[${tool.id}]`;
        const module = await loadComponent(tool.component, baseDir, options.components ?? {});
        const parsed = manifestSchema.safeParse(module.manifest);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          throw new ToolError(
            `${where}: the manifest of ${tool.component} is invalid at ${issue.path.join('.') || '(root)'}: ${issue.message}; the component was not run`,
          );
        }
        const manifest = parsed.data;
        const missing = missingSettings(manifest, tool.settings)[0];
        if (missing) throw new ToolError(`${where}: settings.${missing} is required by ${manifest.name}`);
        const instance = new ToolInstance(
          site,
          tool,
          manifest,
          trackers,
          config.outbox.maxBodyBytes,
          module.seal,
          config.outbox.allowHosts,
        );
        if (
          tool.region === 'eu' &&
          manifest.hosts.length > 0 &&
          !manifest.hosts.some((h) => h.eu) &&
          instance.operatorHosts.length === 0 &&
          instance.settingsHosts.length === 0
        )
          throw new ToolError(
            `${where}: ${manifest.name} has no EU endpoint; region: eu cannot be met (use region: any)`,
          );
        if (manifest.sunset) options.warn?.(`${where}: ${manifest.name} is legacy — ${manifest.sunset}`);
        try {
          await withTimeout(
            () => module.default(this.manager(instance), { ...tool.settings }),
            this.hookTimeoutMs,
          );
        } catch (error) {
          instance.stats.errors++;
          throw new ToolError(
            `${where}: ${manifest.name} failed to start: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
        instances.push(instance);
      }
      loaded.set(site.host, instances);
    }
    return loaded;
  }

  /** Counters of every tool, by `site/tool`. */
  stats(): Record<string, ToolStats> {
    const out: Record<string, ToolStats> = {};
    for (const instances of this.tools.values()) for (const i of instances) out[i.name] = i.stats;
    return out;
  }

  /** Deliveries waiting in the outbox. */
  get outboxPending(): number {
    return this.outbox.pendingCount;
  }

  /** True when the site has at least one tool. */
  hasTools(site: string): boolean {
    return (this.tools.get(site)?.length ?? 0) > 0;
  }

  /** The handler a component registered with `manager.route` (served at `{prefix}/mc/{site}/{tool}{path}`). */
  route(site: string, tool: string, path: string): ((request: unknown) => unknown) | undefined {
    return this.tools
      .get(site)
      ?.find((i) => i.tool.id === tool)
      ?.routes.get(path);
  }

  /**
   * Sends one accepted event to the site's tools: consent checked per tool (`consent_denied`),
   * the privacy view built per tool (DLP `drop` → `dlp_blocked`), listeners run with a timeout,
   * and every request they make made durable in the outbox before this resolves.
   */
  async dispatch(
    site: SiteConfig,
    raw: RawEvent,
    row: EventRow,
    consent: Record<string, boolean> | null,
  ): Promise<BrowserActions> {
    const actions: BrowserActions = { fetch: [], execute: [], return: {} };
    const instances = this.tools.get(site.host) ?? [];
    const deliveries: Delivery[] = [];
    const type = row.type === 'request' ? 'pageview' : row.type;
    // Tools with the same policy share one privacy view (each gets its own copies of the mutables).
    const views = new Map<string, PrivacyView>();
    await Promise.all(
      instances.map(async (instance) => {
        if (instance.tool.purpose && consent?.[instance.tool.purpose] !== true) {
          instance.stats.consentDenied++;
          return;
        }
        const listeners = instance.listeners.get(type) ?? [];
        if (listeners.length === 0) return;
        let shared = views.get(instance.viewKey);
        if (!shared) {
          shared = privacyView(raw, row, site, instance.policy, instance.trackers);
          views.set(instance.viewKey, shared);
        }
        const view: PrivacyView = {
          ...shared,
          url: new URL(shared.url),
          // Each tool its own copy (a pageview has no properties: nothing to copy).
          payload: isEmpty(shared.payload) ? {} : structuredClone(shared.payload),
        };
        for (const kind of view.findings)
          instance.stats.dlpFindings[kind] = (instance.stats.dlpFindings[kind] ?? 0) + 1;
        if (view.findings.length > 0 && instance.policy.dlp === 'drop') {
          instance.stats.dlpBlocked++;
          return;
        }
        instance.stats.events++;
        const produced = new Set([row.id, view.ip, view.userAgent, view.clientId].filter((v) => v !== ''));
        const context: DispatchContext = { eventId: row.id, produced, site, deliveries, actions, counter: 0 };
        const pageKv = new Map<string, string>();
        const event: MCEvent = {
          type,
          ...(row.name !== null ? { name: row.name } : {}),
          payload: { ...view.payload, __eventId: row.id },
          client: this.client(instance, view, row, pageKv, actions),
        };
        await Promise.all(
          listeners.map((listener) =>
            this.context
              .run(context, () => withTimeout(() => listener(event), this.hookTimeoutMs))
              .catch((error: unknown) => {
                if (error instanceof HookTimeout) instance.stats.timeouts++;
                else if (error instanceof PermissionError) instance.stats.permissionDenied++;
                else instance.stats.errors++;
                this.warn(
                  `tool ${instance.name}: ${error instanceof Error ? error.message : String(error)} (event ${row.id}; other tools unaffected)`,
                );
              }),
          ),
        );
      }),
    );
    await this.outbox.enqueue(deliveries);
    return actions;
  }

  /** The Manager handed to one component. */
  private manager(instance: ToolInstance): Manager {
    const require = (permission: Permission, what: string) => {
      if (!instance.can(permission)) {
        instance.stats.permissionDenied++;
        throw new PermissionError(
          `${what} needs the ${permission} permission, which ${instance.manifest.name}'s manifest does not declare`,
        );
      }
    };
    const warn = this.warn;
    const queueFetch = (input: string | URL | Request, init?: RequestInit) =>
      this.queueFetch(instance, input, init);
    const manager: Manager = {
      name: instance.manifest.name,
      addEventListener(type, callback) {
        const list = instance.listeners.get(type) ?? [];
        list.push(callback);
        instance.listeners.set(type, list);
        return true;
      },
      createEventListener(type, callback) {
        const list = instance.clientListeners.get(type) ?? [];
        list.push(callback);
        instance.clientListeners.set(type, list);
        return true;
      },
      get(key) {
        return Promise.resolve(instance.kv.get(key));
      },
      set(key, value) {
        if (instance.kv.size >= MAX_KV && !instance.kv.has(key)) return Promise.resolve(false);
        instance.kv.set(key, value);
        return Promise.resolve(true);
      },
      route(path, callback) {
        require('provide_server_functionality', 'manager.route');
        instance.routes.set(path, callback);
        return `/mc/${instance.site.host}/${instance.tool.id}${path}`;
      },
      proxy(_path, _target) {
        require('provide_server_functionality', 'manager.proxy');
        warn(`tool ${instance.name}: manager.proxy is not supported (a proxy would bypass the egress guard)`);
        return undefined;
      },
      serve(_path, _target) {
        require('serve_static_files', 'manager.serve');
        warn(`tool ${instance.name}: manager.serve is not supported in this version`);
        return undefined;
      },
      async useCache(key, callback, expiry) {
        const hit = instance.cache.get(key);
        const now = Date.now();
        if (hit && hit.expires > now) return hit.value;
        const value: unknown = await (callback as () => unknown)();
        if (instance.cache.size >= MAX_KV) instance.cache.clear();
        instance.cache.set(key, { value, expires: now + (expiry ?? 60) * 1000 });
        return value;
      },
      invalidateCache(key) {
        instance.cache.delete(key);
        return Promise.resolve();
      },
      registerEmbed(name, callback) {
        instance.embeds.set(name, callback);
        return true;
      },
      registerWidget(callback) {
        instance.widgets.push(callback);
        return true;
      },
      fetch(input, init) {
        require('server_network_requests', 'manager.fetch');
        return queueFetch(input as string | URL | Request, init);
      },
    };
    return manager;
  }

  /** `manager.fetch`: egress guard, then a durable delivery; answers 202 once queued (403 if refused). */
  private async queueFetch(
    instance: ToolInstance,
    input: string | URL | Request,
    init?: RequestInit,
  ): Promise<Response> {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url;
    const headers = plainHeaders(init?.headers);
    let body: string | null = null;
    if (init?.body !== undefined && init.body !== null) {
      if (typeof init.body === 'string') body = init.body;
      else if (init.body instanceof URLSearchParams) body = init.body.toString();
      else return new Response('only text bodies are supported', { status: 400 });
    }
    const request: OutgoingRequest = { url, method: (init?.method ?? 'GET').toUpperCase(), headers, body };
    const context = this.context.getStore();
    const decision = checkRequest(request, instance.rules, context?.produced);
    if (!decision.ok) {
      instance.stats.blocked++;
      let host = '';
      let path = '';
      try {
        ({ host, pathname: path } = new URL(url));
      } catch {
        host = '(invalid)';
      }
      this.options.egressLog?.({
        ts: Date.now(),
        site: instance.site.host,
        tool: instance.tool.id,
        host,
        path,
        bytes: 0,
        sha256: '',
        policy: instance.policyLabel,
        outcome: 'blocked',
        status: null,
        reason: decision.reason,
        deliveryId: '',
        deliveries: 0,
      });
      return new Response(JSON.stringify({ error: decision.reason }), { status: 403 });
    }
    for (const kind of decision.findings)
      instance.stats.dlpFindings[kind] = (instance.stats.dlpFindings[kind] ?? 0) + 1;
    const eventId = context?.eventId ?? randomUUID();
    const delivery: Delivery = {
      id: `${eventId}:${instance.tool.id}:${context ? context.counter++ : 0}`,
      site: instance.site.host,
      tool: instance.tool.id,
      eventId,
      request: decision.request,
      policy: instance.policyLabel,
      operatorHosts: instance.operatorHosts,
      quoteAnswers: instance.rules.manifestHosts.some((h) => h.host === hostOf(decision.request.url)),
      createdAt: Date.now(),
      attempts: 0,
    };
    instance.stats.deliveries++;
    if (context) context.deliveries.push(delivery);
    else await this.outbox.enqueue([delivery]);
    return new Response(null, { status: 202, statusText: 'Accepted (queued by Balise)' });
  }

  /** The Client of one event for one tool: the privacy view, plus KV and browser actions. */
  private client(
    instance: ToolInstance,
    view: PrivacyView,
    row: EventRow,
    pageKv: Map<string, string>,
    actions: BrowserActions,
  ): Client {
    const warn = this.warn;
    const visitor = row.visitorHash ?? 'anonymous';
    const kvKey = (tool: string, key: string) => `${tool}\u0000${visitor}\u0000${key}`;
    const refuseBrowser = (what: string): boolean => {
      instance.stats.refusedBrowserRequests++;
      if (!instance.warnedBrowser) {
        instance.warnedBrowser = true;
        warn(
          `tool ${instance.name}: ${what} refused — browser-side vendor requests are off under privacy.browserRequests: refuse (reported once per tool; counted in /metrics)`,
        );
      }
      return false;
    };
    const sessions = this.clientKv;
    return {
      emitter: 'browser',
      url: view.url,
      ip: view.ip,
      userAgent: view.userAgent,
      language: view.language,
      referer: view.referer,
      ...(view.title !== undefined ? { title: view.title } : {}),
      timestamp: view.timestamp,
      fetch(resource, settings) {
        if (instance.policy.browserRequests === 'refuse') return refuseBrowser('client.fetch');
        if (!instance.can('client_network_requests'))
          throw new PermissionError('client.fetch needs client_network_requests');
        actions.fetch.push([resource, settings ?? {}]);
        return true;
      },
      execute(code) {
        if (instance.policy.browserRequests === 'refuse') return refuseBrowser('client.execute');
        if (!instance.can('execute_unsafe_scripts'))
          throw new PermissionError('client.execute needs execute_unsafe_scripts');
        actions.execute.push(code);
        return true;
      },
      return(value) {
        actions.return[instance.tool.id] = value;
      },
      set(key, value, options) {
        if (!instance.can('access_client_kv')) throw new PermissionError('client.set needs access_client_kv');
        const scope = options?.scope ?? 'infinite';
        if (scope === 'page') {
          if (value === null || value === undefined) pageKv.delete(key);
          else pageKv.set(key, value);
          return true;
        }
        const id = kvKey(instance.tool.id, key);
        if (value === null || value === undefined) sessions.delete(id);
        else {
          if (sessions.size >= MAX_KV) sessions.clear();
          sessions.set(id, { value, expires: Date.now() + (scope === 'session' ? SESSION_MS : DAY_MS) });
        }
        return true;
      },
      get(key, tool) {
        if (key === 'client_id' && !tool) return view.clientId;
        if (!instance.can('access_client_kv')) throw new PermissionError('client.get needs access_client_kv');
        if (tool && tool !== instance.tool.id && !instance.can('access_extended_client_kv'))
          throw new PermissionError(`reading ${tool}'s client values needs access_extended_client_kv`);
        if (!tool && pageKv.has(key)) return pageKv.get(key);
        const hit = sessions.get(kvKey(tool ?? instance.tool.id, key));
        return hit && hit.expires > Date.now() ? hit.value : undefined;
      },
      attachEvent(type) {
        instance.clientListeners.set(type, instance.clientListeners.get(type) ?? []);
      },
      detachEvent(type) {
        instance.clientListeners.delete(type);
      },
    };
  }
}
