import { AsyncLocalStorage } from 'node:async_hooks';
import type { MCEvent } from '@managed-components/types';
import type { Config, SiteConfig } from '../config/schema.js';
import { loadClearUrlsRules } from '../privacy/clearurls.js';
import { BUILTIN_TRACKERS } from '../privacy/trackers.js';
import type { EventRow } from '../store/row.js';
import { ToolClient, type BrowserActions, type ClientValues } from './client.js';
import type { PrivacyView, ToolInput } from './client-view.js';
import { BUILTIN_COMPONENTS, type ComponentModule } from './components.js';
import { PermissionError, type ToolInstance, type ToolStats } from './instance.js';
import type { WindowEntry } from './send-window.js';
import { loadTool, type LoadDeps } from './loader.js';
import { toolManager, type DispatchContext } from './manager.js';
import { manifestSchema, type Manifest } from './manifest.js';
import type { SandboxHandlers } from './sandbox/host.js';
import { countFault, dispatchSandboxed } from './sandboxed.js';
import { compileTriggers } from './triggers.js';
import { dispatchToTool, type EventDispatch, type RunListeners } from './dispatch.js';
import type { Delivery, EgressRecord, Outbox } from './outbox.js';
import { HookTimeout, withTimeout } from './timeout.js';

export { BUILTIN_COMPONENTS, missingSettings, ToolError, type ComponentModule } from './components.js';
export type { BrowserActions } from './client.js';
export type { ToolStats } from './instance.js';

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

/** Stops the sandboxes of a set of tools. */
async function closeAll(tools: Map<string, ToolInstance[]>): Promise<void> {
  const sandboxes = [...tools.values()]
    .flat()
    .flatMap((instance) => (instance.sandbox ? [instance.sandbox] : []));
  await Promise.all(sandboxes.map((sandbox) => sandbox.close()));
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
   * The event a built-in component's listener is running for, while its synchronous part runs
   * (built-ins fetch before they first wait): AsyncLocalStorage, which follows an event across
   * awaits, is left to embedded components — once used, it makes every promise of the process
   * pay for its hooks.
   */
  private current: DispatchContext | undefined;
  /**
   * Client values set with session or infinite scope, per tool and visitor hash: kept in this
   * gateway's memory (bounded), never in a browser cookie; the visitor hash changes every day,
   * so nothing outlives the day's salt.
   */
  private readonly clientKv: ClientValues = new Map();
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
          if (kept) Object.assign(instance.stats, kept, { disabled: null });
        }
      const replaced = this.tools;
      this.tools = next;
      void closeAll(replaced);
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
    const deps: LoadDeps = {
      baseDir: this.baseDir,
      components: this.options.components ?? {},
      hookTimeoutMs: this.hookTimeoutMs,
      maxBodyBytes: config.outbox.maxBodyBytes,
      gatewayHosts: config.outbox.allowHosts,
      warn: this.warn,
      manager: (instance) => this.manager(instance),
      handlers: (instance) => this.sandboxHandlers(instance),
    };
    const loaded = new Map<string, ToolInstance[]>();
    try {
      for (const site of config.sites) {
        const trackers = site.privacy.trackerRules
          ? loadClearUrlsRules(site.privacy.trackerRules)
          : BUILTIN_TRACKERS;
        const instances: ToolInstance[] = [];
        loaded.set(site.host, instances);
        const triggers = compileTriggers(site);
        for (const tool of site.tools) {
          const instance = await loadTool(site, tool, trackers, deps);
          instance.triggers = triggers;
          instances.push(instance);
        }
      }
    } catch (error) {
      await closeAll(loaded);
      throw error;
    }
    return loaded;
  }

  /** What a sandboxed component's thread asks of the gateway. */
  private sandboxHandlers(instance: () => ToolInstance): SandboxHandlers {
    return {
      onFetch: async (dispatch, request) => {
        const tool = instance();
        const context = dispatch === null ? undefined : tool.sandboxContexts.get(dispatch);
        const send = () =>
          this.manager(tool).fetch(request.url, {
            method: request.method,
            headers: request.headers,
            ...(request.body !== null ? { body: request.body } : {}),
          }) as Promise<Response>;
        try {
          const response = await (context ? this.context.run(context, send) : send());
          return {
            status: response.status,
            body: response.status === 202 ? '{"queued":true}' : await response.text(),
          };
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          return { status: 403, body: JSON.stringify({ error: message }) };
        }
      },
      onFault: (fault) => countFault(instance(), fault, this.warn),
      onListen: (type) => {
        const tool = instance();
        if (!tool.listeners.has(type)) tool.listeners.set(type, [() => undefined]);
      },
      onDisabled: (reason) => {
        const tool = instance();
        tool.stats.disabled = reason;
        this.warn(
          `tool ${tool.name} disabled: it ${reason}; the other tools go on (restart or reload to start it again)`,
        );
      },
    };
  }

  /** Stops every sandboxed component's thread. */
  async close(): Promise<void> {
    await closeAll(this.tools);
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

  /** How long the oldest delivery in the outbox has waited (seconds; 0 with none waiting). */
  get outboxOldestAgeSeconds(): number {
    const at = this.outbox.oldestPendingAt;
    return at === null ? 0 : Math.max(0, Date.now() - at) / 1000;
  }

  /** Each tool's window of requests in flight, and how many are (`/metrics`). */
  get outboxWindows(): WindowEntry[] {
    return this.outbox.windows.entries();
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
   * Sends one accepted event to the site's tools (`dispatchToTool`: consent, triggers and
   * actions, privacy view, listeners with a timeout) and makes every request they make durable
   * in the outbox before this resolves. With `debug` (the visitor's browser holds the site's
   * debug key), the answer's `debug` says which triggers matched and what each tool sent.
   */
  async dispatch(
    site: SiteConfig,
    raw: ToolInput,
    row: EventRow,
    consent: Record<string, boolean> | null,
    debug = false,
  ): Promise<BrowserActions> {
    const instances = this.tools.get(site.host) ?? [];
    const event: EventDispatch = {
      site,
      raw,
      row,
      consent,
      type: row.type === 'request' ? 'pageview' : row.type,
      views: new Map(),
      fired: new Map(),
      deliveries: [],
      actions: { fetch: [], execute: [], return: {} },
      trace: debug
        ? { event: { id: row.id, type: row.type, name: row.name }, triggers: {}, tools: [] }
        : null,
    };
    const run: RunListeners = (instance, type, view, context) =>
      instance.sandbox
        ? dispatchSandboxed(instance, type, row, view, context, event.actions, this.warn)
        : this.runListeners(instance, type, row, view, context, event.actions);
    await Promise.all(instances.map((instance) => dispatchToTool(instance, event, run)));
    await this.outbox.enqueue(event.deliveries);
    if (event.trace) {
      for (const [id, matches] of instances[0]?.triggers ?? [])
        event.trace.triggers[id] = matches(row, raw.props);
      event.actions.debug = [event.trace];
    }
    return event.actions;
  }

  /** Runs a component's listeners of one type, in the gateway's thread, each with a timeout. */
  private async runListeners(
    instance: ToolInstance,
    type: string,
    row: EventRow,
    view: PrivacyView,
    context: DispatchContext,
    actions: BrowserActions,
  ): Promise<void> {
    const event: MCEvent = {
      type,
      ...(row.name !== null ? { name: row.name } : {}),
      payload: { ...view.payload, __eventId: row.id },
      client: new ToolClient(instance, view, row, actions, this.clientKv, this.warn),
    };
    const failed = (error: unknown): void => {
      if (error instanceof HookTimeout) instance.stats.timeouts++;
      else if (error instanceof PermissionError) instance.stats.permissionDenied++;
      else instance.stats.errors++;
      this.warn(
        `tool ${instance.name}: ${error instanceof Error ? error.message : String(error)} (event ${row.id}; other tools unaffected)`,
      );
    };
    const listeners = instance.listeners.get(type) ?? [];
    if (instance.builtin) {
      // A built-in's listener queues its requests before its first await and waits on nothing
      // else (`manager.fetch` answers once queued): no timeout to watch, no promise per listener.
      for (const listener of listeners) {
        const previous = this.current;
        this.current = context;
        let result: unknown;
        try {
          result = listener(event);
        } catch (error) {
          failed(error);
          continue;
        } finally {
          this.current = previous;
        }
        if (result instanceof Promise) await result.catch(failed);
      }
      return;
    }
    await Promise.all(
      listeners.map((listener) =>
        withTimeout(() => this.context.run(context, () => listener(event)), this.hookTimeoutMs).catch(failed),
      ),
    );
  }

  /** The Manager handed to one component. */
  private manager(instance: ToolInstance) {
    return toolManager(instance, {
      warn: this.warn,
      context: () => this.current ?? this.context.getStore(),
      enqueue: (deliveries: Delivery[]) => this.outbox.enqueue(deliveries),
      egressLog: this.options.egressLog,
    });
  }
}
