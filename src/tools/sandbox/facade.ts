// The Manager and Client a sandboxed component receives: plain objects of the worker thread,
// whose every capability checks the permissions the operator granted, and which name any API
// Balise does not offer instead of answering `undefined`.
import type { SandboxClient, SandboxEffects } from './protocol.js';

/** A call the granted permissions do not allow. */
export class PermissionDenied extends Error {}

type Listener = (event: unknown) => unknown;
type Fetch = (input: unknown, init?: RequestInit) => Promise<Response>;

/** What the facades share with the worker. */
export interface Facades {
  permissions: Set<string>;
  listeners: Map<string, Listener[]>;
  /** Sends a request to the gateway's egress guard and outbox; resolves with its answer. */
  fetch: (
    url: string,
    method: string,
    headers: Record<string, string>,
    body: string | null,
  ) => Promise<Response>;
  onListen: (type: string) => void;
  /** The global `fetch` of the component's context, set with the manager. */
  globalFetch?: Fetch;
}

/** Most values a component may keep in its store, cache or client values. */
const MAX_VALUES = 100_000;
const SESSION_MS = 30 * 60_000;
const DAY_MS = 86_400_000;

/** Names that tools such as `JSON.stringify`, `await` and inspection look up: never an error. */
const PROBED = new Set(['then', 'toJSON', 'constructor', 'inspect', 'nodeType', 'asymmetricMatch']);

/** An object whose unknown properties throw an error naming the API (`manager.xyz`). */
function named<T extends object>(what: string, target: T): T {
  return new Proxy(target, {
    get(object, key, receiver) {
      if (typeof key === 'symbol' || key in object || PROBED.has(key))
        return Reflect.get(object, key, receiver) as unknown;
      throw new Error(`${what}.${key} is not offered by Balise (docs/tools.md lists what is)`);
    },
  });
}

function requirePermission(facades: Facades, permission: string, what: string): void {
  if (!facades.permissions.has(permission))
    throw new PermissionDenied(
      `${what} needs the ${permission} permission, which is not granted (the manifest's permissions, or tools[].permissions)`,
    );
}

/** A fetch's request as text: URL, method, lower-case headers, a text body. */
function plainRequest(input: unknown, init: RequestInit | undefined) {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : (input as Request).url;
  const headers: Record<string, string> = {};
  for (const [name, value] of new Headers(init?.headers ?? undefined)) headers[name] = value;
  const raw = init?.body;
  let body: string | null = null;
  if (typeof raw === 'string') body = raw;
  else if (raw instanceof URLSearchParams) body = raw.toString();
  else if (raw !== undefined && raw !== null)
    throw new TypeError('fetch: only text bodies (a string or URLSearchParams) are offered by Balise');
  return { url: String(url), method: (init?.method ?? 'GET').toUpperCase(), headers, body };
}

/** The Manager of a sandboxed component. */
export function managerFacade(facades: Facades, name: string): object {
  const store = new Map<string, unknown>();
  const cache = new Map<string, { value: unknown; expires: number }>();
  // As fetch does, a request that cannot be made is a rejected promise (never a throw).
  const sendRequest =
    (what: string): Fetch =>
    (input, init) => {
      try {
        requirePermission(facades, 'server_network_requests', what);
        const request = plainRequest(input, init);
        return facades.fetch(request.url, request.method, request.headers, request.body);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    };
  facades.globalFetch = sendRequest('fetch');
  const recorded = () => true;
  return named('manager', {
    name,
    addEventListener(type: string, callback: Listener) {
      const list = facades.listeners.get(type) ?? [];
      if (list.length === 0) facades.onListen(type);
      list.push(callback);
      facades.listeners.set(type, list);
      return true;
    },
    // Browser-side events (scroll, clicks) are not collected: recorded, never called.
    createEventListener: recorded,
    registerEmbed: recorded,
    registerWidget: recorded,
    get: (key: string) => Promise.resolve(store.get(key)),
    set(key: string, value: unknown) {
      if (store.size >= MAX_VALUES && !store.has(key)) return Promise.resolve(false);
      store.set(key, value);
      return Promise.resolve(true);
    },
    async useCache(key: string, callback: () => unknown, expiry?: number) {
      const hit = cache.get(key);
      const now = Date.now();
      if (hit && hit.expires > now) return hit.value;
      const value = await callback();
      if (cache.size >= MAX_VALUES) cache.clear();
      cache.set(key, { value, expires: now + (expiry ?? 60) * 1000 });
      return value;
    },
    invalidateCache(key: string) {
      cache.delete(key);
      return Promise.resolve();
    },
    route() {
      requirePermission(facades, 'provide_server_functionality', 'manager.route');
      throw new Error('manager.route is not offered to a sandboxed component in this version');
    },
    proxy() {
      requirePermission(facades, 'provide_server_functionality', 'manager.proxy');
      return undefined;
    },
    serve() {
      requirePermission(facades, 'serve_static_files', 'manager.serve');
      return undefined;
    },
    fetch: sendRequest('manager.fetch'),
  });
}

const clientValues = new Map<string, { value: string; expires: number }>();

/** The Client of one event: the privacy view, the browser actions, the client values. */
export function clientFacade(facades: Facades, client: SandboxClient, effects: SandboxEffects): object {
  const page = new Map<string, string>();
  const key = (name: string) => `${client.visitor}\u0000${name}`;
  const browser = (permission: string, what: string): boolean => {
    if (client.browserRequests === 'refuse') {
      effects.refusedBrowserRequests++;
      return false;
    }
    requirePermission(facades, permission, what);
    return true;
  };
  const { visitor: _visitor, clientId, browserRequests: _browser, url, ...seen } = client;
  return named('client', {
    emitter: 'browser',
    // Known even when the script did not send them (undefined, never "not offered").
    title: undefined,
    timezoneOffset: undefined,
    viewportWidth: undefined,
    viewportHeight: undefined,
    screenWidth: undefined,
    screenHeight: undefined,
    ...seen,
    url: new URL(url),
    fetch(resource: string, settings?: Record<string, unknown>) {
      if (!browser('client_network_requests', 'client.fetch')) return false;
      effects.fetch.push([String(resource), settings ?? {}]);
      return true;
    },
    execute(code: string) {
      if (!browser('execute_unsafe_scripts', 'client.execute')) return false;
      effects.execute.push(String(code));
      return true;
    },
    return(value: unknown) {
      effects.returned = { value };
    },
    set(name: string, value: string | null | undefined, options?: { scope?: string }) {
      requirePermission(facades, 'access_client_kv', 'client.set');
      const scope = options?.scope ?? 'infinite';
      if (scope === 'page') {
        if (value === null || value === undefined) page.delete(name);
        else page.set(name, String(value));
        return true;
      }
      if (value === null || value === undefined) clientValues.delete(key(name));
      else {
        if (clientValues.size >= MAX_VALUES) clientValues.clear();
        const ttl = scope === 'session' ? SESSION_MS : DAY_MS;
        clientValues.set(key(name), { value: String(value), expires: Date.now() + ttl });
      }
      return true;
    },
    get(name: string, tool?: string) {
      if (name === 'client_id' && !tool) return clientId;
      requirePermission(facades, 'access_client_kv', 'client.get');
      if (tool)
        throw new PermissionDenied(
          `client.get of another tool's values (${tool}) is not offered to a sandboxed component`,
        );
      if (page.has(name)) return page.get(name);
      const hit = clientValues.get(key(name));
      return hit && hit.expires > Date.now() ? hit.value : undefined;
    },
    attachEvent: () => undefined,
    detachEvent: () => undefined,
  });
}
