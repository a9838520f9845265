import { randomUUID } from 'node:crypto';
import type { Manager } from '@managed-components/types';
import type { SiteConfig } from '../config/schema.js';
import type { BrowserActions } from './client.js';
import { maskedRequest, type DebugRequest } from './debug.js';
import { checkRequest, type OutgoingRequest } from './egress.js';
import { MAX_KV, PermissionError, type ToolInstance } from './instance.js';
import type { Permission } from './manifest.js';
import type { Pending } from './delivery.js';
import type { Delivery, EgressRecord } from './outbox.js';

/** The event a component's listeners are running for, seen by its `manager.fetch`. */
export interface DispatchContext {
  eventId: string;
  /** Values the gateway made for this event and tool (id, IP and User-Agent as the policy left them, client id). */
  produced: ReadonlySet<string>;
  site: SiteConfig;
  deliveries: Delivery[];
  actions: BrowserActions;
  counter: number;
  /** Debug mode: each request of this tool for this event, as sent (secrets masked) or refused. */
  trace?: DebugRequest[];
}

/** What a component's Manager needs of the runtime. */
export interface ManagerDeps {
  warn: (line: string) => void;
  /** The event being dispatched, when a listener is running. */
  context: () => DispatchContext | undefined;
  /** Makes deliveries durable (outside an event: at once). */
  enqueue: (deliveries: Delivery[]) => Promise<void>;
  /** Receives blocked requests for the egress log. */
  egressLog?: ((record: EgressRecord) => void) | undefined;
}

/** The Manager handed to one component. */
export function toolManager(instance: ToolInstance, deps: ManagerDeps): Manager {
  const require = (permission: Permission, what: string) => {
    if (!instance.can(permission)) {
      instance.stats.permissionDenied++;
      throw new PermissionError(
        `${what} needs the ${permission} permission, which ${instance.manifest.name}'s manifest does not declare`,
      );
    }
  };
  const warn = deps.warn;
  const queueFetch = (input: string | URL | Request, init?: RequestInit) =>
    queueFetchFor(instance, deps, input, init);
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
async function queueFetchFor(
  instance: ToolInstance,
  deps: ManagerDeps,
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
  const context = deps.context();
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
    deps.egressLog?.({
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
    context?.trace?.push(maskedRequest(request, instance.secrets, decision.reason));
    return new Response(JSON.stringify({ error: decision.reason }), { status: 403 });
  }
  for (const kind of decision.findings)
    instance.stats.dlpFindings[kind] = (instance.stats.dlpFindings[kind] ?? 0) + 1;
  const eventId = context?.eventId ?? randomUUID();
  const delivery: Delivery & Pick<Pending, 'json'> = {
    id: `${eventId}:${instance.tool.id}:${context ? context.counter++ : 0}`,
    site: instance.site.host,
    tool: instance.tool.id,
    eventId,
    request: decision.request,
    policy: instance.policyLabel,
    operatorHosts: instance.operatorHosts,
    quoteAnswers: decision.manifestHost,
    createdAt: Date.now(),
    attempts: 0,
  };
  if (decision.json !== undefined) delivery.json = decision.json;
  // A component with a seal (the webhook) has each request signed as it leaves, not when made.
  if (instance.batchRule?.seal) delivery.sealAtSend = true;
  instance.stats.deliveries++;
  context?.trace?.push(maskedRequest(decision.request, instance.secrets));
  if (context) context.deliveries.push(delivery);
  else await deps.enqueue([delivery]);
  return new Response(null, { status: 202, statusText: 'Accepted (queued by Balise)' });
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
