// The worker thread of one sandboxed component: its code runs in a `node:vm` context that holds
// only JavaScript's own objects, a few web-platform ones (URL, TextEncoder, crypto, timers) and
// the facade its granted permissions allow; the thread's memory is limited by the gateway, which
// stops it when it does not answer in time. Faults — throws, rejections nobody awaited, errors in
// timers — are reported and the component goes on.
import { AsyncLocalStorage } from 'node:async_hooks';
import { webcrypto } from 'node:crypto';
import vm from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { clientFacade, managerFacade, PermissionDenied, type Facades } from './facade.js';
import type { HostMessage, SandboxEffects, SandboxFault, SandboxStart, WorkerMessage } from './protocol.js';

const start = workerData as SandboxStart;
const port = parentPort!;
const send = (message: WorkerMessage): void => port.postMessage(message);

/** A listener or setup that ran past its time limit. */
class HookTimeout extends Error {}

function faultOf(error: unknown): SandboxFault {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof HookTimeout) return { kind: 'timeout', message };
  if (error instanceof PermissionDenied) return { kind: 'permission', message };
  return { kind: 'error', message: message.slice(0, 500) };
}

process.on('unhandledRejection', (reason) => send({ op: 'fault', fault: faultOf(reason) }));
process.on('uncaughtException', (error) => send({ op: 'fault', fault: faultOf(error) }));

/** Runs `work`; rejects with HookTimeout after the hook time limit. */
function timed(work: () => unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new HookTimeout(`ran longer than ${start.hookTimeoutMs} ms`)),
      start.hookTimeoutMs,
    );
    Promise.resolve()
      .then(work)
      .then(resolve, reject)
      .finally(() => clearTimeout(timer));
  });
}

const currentDispatch = new AsyncLocalStorage<number>();
const fetches = new Map<number, (answer: { status: number; body: string }) => void>();
let calls = 0;

/** `fetch` as the component sees it: the gateway's egress guard and outbox answer it. */
function bridgedFetch(url: string, method: string, headers: Record<string, string>, body: string | null) {
  const call = ++calls;
  const dispatch = currentDispatch.getStore() ?? null;
  return new Promise<Response>((resolve) => {
    fetches.set(call, ({ status, body: text }) =>
      resolve(new Response(text, { status, headers: { 'content-type': 'application/json' } })),
    );
    send({ op: 'fetch', call, dispatch, url, method, headers, body });
  });
}

const facades: Facades = {
  permissions: new Set(),
  listeners: new Map(),
  fetch: bridgedFetch,
  onListen: (type) => send({ op: 'listen', type }),
};

const refuseRequire = (id: string): never => {
  throw new Error(
    `the component requires ${id}, which Balise does not offer to a component (bundle it, or use the manager API)`,
  );
};
const moduleObject: { exports: Record<string, unknown> } = { exports: {} };
const silent = () => undefined;
const sandboxGlobals = {
  // Component logs can carry what a visitor sent: they are not written anywhere.
  console: { log: silent, info: silent, warn: silent, error: silent, debug: silent, trace: silent },
  URL,
  URLSearchParams,
  TextEncoder,
  TextDecoder,
  atob,
  btoa,
  crypto: webcrypto,
  setTimeout,
  clearTimeout,
  setInterval,
  clearInterval,
  queueMicrotask,
  structuredClone,
  Response,
  Headers,
  AbortController,
  fetch: (input: unknown, init?: RequestInit) =>
    facades.globalFetch
      ? facades.globalFetch(input, init)
      : Promise.reject(
          new PermissionDenied('fetch before the component started: its top-level code has no capability'),
        ),
  module: moduleObject,
  exports: moduleObject.exports,
  require: refuseRequire,
};

const ESM_SYNTAX =
  /(^|[\s;})])(export\s*(\{|default\b|const\b|let\b|var\b|function\b|async\b|class\b|\*)|import\s*[{*"'\w])/m;

/** Evaluates the bundle (ESM or CommonJS) in the context; returns its namespace. */
async function evaluate(): Promise<Record<string, unknown>> {
  const context = vm.createContext(sandboxGlobals, { name: `component ${start.name}` });
  const { source, filename } = start;
  const esm = filename.endsWith('.mjs') || (!filename.endsWith('.cjs') && ESM_SYNTAX.test(source));
  if (!esm) {
    vm.runInContext(
      `(function (exports, require, module, __filename, __dirname) {${source}\n}).call(module.exports, module.exports, require, module, ${JSON.stringify(filename)}, '')`,
      context,
      { filename, timeout: start.hookTimeoutMs },
    );
    return { default: moduleObject.exports };
  }
  const module = new vm.SourceTextModule(source, { context, identifier: filename });
  await module.link((specifier: string) => refuseRequire(specifier));
  await module.evaluate({ timeout: start.hookTimeoutMs });
  return module.namespace as Record<string, unknown>;
}

type Main = (manager: unknown, settings: unknown) => unknown;
let main: Main | null = null;

/** The component's function: `default`, CommonJS `module.exports`, or a bundler's `default.default`. */
function mainOf(namespace: Record<string, unknown>): { main: Main | null; manifest: unknown } {
  let value: unknown = namespace.default;
  let manifest: unknown = namespace.manifest;
  for (let depth = 0; depth < 3 && value && typeof value !== 'function'; depth++) {
    const inner = value as Record<string, unknown>;
    manifest ??= inner.manifest;
    value = inner.default;
  }
  return { main: typeof value === 'function' ? (value as Main) : null, manifest: manifest ?? null };
}

async function load(): Promise<void> {
  try {
    const found = mainOf(await evaluate());
    main = found.main;
    let manifest: unknown = null;
    try {
      manifest = JSON.parse(JSON.stringify(found.manifest ?? null)) as unknown;
    } catch {
      manifest = null;
    }
    send({
      op: 'loaded',
      manifest,
      ...(main ? {} : { error: 'has no default export function (nor module.exports)' }),
    });
  } catch (error) {
    send({ op: 'loaded', manifest: null, error: faultOf(error).message });
  }
}

async function dispatch(message: Extract<HostMessage, { op: 'dispatch' }>): Promise<void> {
  const effects: SandboxEffects = { fetch: [], execute: [], refusedBrowserRequests: 0 };
  const faults: SandboxFault[] = [];
  const event = {
    type: message.type,
    ...(message.name !== undefined ? { name: message.name } : {}),
    payload: message.payload,
    client: clientFacade(facades, message.client, effects),
  };
  await Promise.all(
    (facades.listeners.get(message.type) ?? []).map((listener) =>
      currentDispatch
        .run(message.id, () => timed(() => listener(event)))
        .catch((error: unknown) => {
          faults.push(faultOf(error));
        }),
    ),
  );
  let plain: SandboxEffects;
  try {
    plain = JSON.parse(JSON.stringify(effects)) as SandboxEffects;
  } catch (error) {
    // What the component asked of the browser is not JSON (a BigInt, a cycle): dropped, said.
    faults.push(faultOf(error));
    plain = { fetch: [], execute: [], refusedBrowserRequests: effects.refusedBrowserRequests };
  }
  send({ op: 'done', id: message.id, effects: plain, faults });
}

port.on('message', (message: HostMessage) => {
  if (message.op === 'fetched') {
    fetches.get(message.call)?.(message);
    fetches.delete(message.call);
  } else if (message.op === 'dispatch') void dispatch(message);
  else {
    facades.permissions = new Set(message.permissions);
    const manager = managerFacade(facades, start.name);
    timed(() => main!(manager, message.settings)).then(
      () => send({ op: 'started' }),
      (error: unknown) => {
        const fault = faultOf(error);
        send({ op: 'started', error: fault.message, fault: fault.kind });
      },
    );
  }
});

void load();
