import type { Client, ClientSetOptions } from '@managed-components/types';
import type { EventRow } from '../store/row.js';
import type { PrivacyView } from './client-view.js';
import type { DebugTrace } from './debug.js';
import { MAX_KV, PermissionError, type ToolInstance } from './instance.js';

/** What the browser is asked to do after an event (the track protocol's answer). */
export interface BrowserActions {
  fetch: [string, RequestInit][];
  execute: string[];
  return: Record<string, unknown>;
  /** Debug mode only: what happened to each event (docs/tools.md#debug-mode). */
  debug?: DebugTrace[];
}

/**
 * Client values set with session or infinite scope, per tool and visitor hash: kept in the
 * gateway's memory (bounded), never in a browser cookie.
 */
export type ClientValues = Map<string, { value: string; expires: number }>;

type ClientEventType = Parameters<Client['attachEvent']>[0];

const SESSION_MS = 30 * 60_000;
const DAY_MS = 86_400_000;

/**
 * Counts browser requests (`client.fetch`/`execute`) refused under `browserRequests: refuse`;
 * the first of a tool is reported.
 */
export function countRefusedBrowser(
  instance: ToolInstance,
  count: number,
  what: string,
  warn: (line: string) => void,
): void {
  instance.stats.refusedBrowserRequests += count;
  if (instance.warnedBrowser) return;
  instance.warnedBrowser = true;
  warn(
    `tool ${instance.name}: ${what} refused — browser-side vendor requests are off under privacy.browserRequests: refuse (reported once per tool; counted in /metrics)`,
  );
}

/** The client values the script may not have sent (time zone, window size): present only when sent. */
export function optionalClientFields(view: PrivacyView): {
  timezoneOffset?: number;
  viewportWidth?: number;
  viewportHeight?: number;
} {
  const fields: { timezoneOffset?: number; viewportWidth?: number; viewportHeight?: number } = {};
  if (view.timezoneOffset !== null) fields.timezoneOffset = view.timezoneOffset;
  if (view.viewportWidth !== null) fields.viewportWidth = view.viewportWidth;
  if (view.viewportHeight !== null) fields.viewportHeight = view.viewportHeight;
  return fields;
}

/**
 * The Client of one event for one tool: the privacy view, plus KV and browser actions. A class
 * (its methods shared, what it holds private): one is made per event and tool, and an object
 * literal of eight closures cost more than the component's own work.
 */
export class ToolClient implements Client {
  readonly emitter = 'browser';
  readonly url: URL;
  readonly ip: string;
  readonly userAgent: string;
  readonly language: string;
  readonly referer: string;
  readonly title?: string;
  readonly timestamp: number;
  readonly timezoneOffset?: number;
  readonly viewportWidth?: number;
  readonly viewportHeight?: number;
  readonly #instance: ToolInstance;
  readonly #clientId: string;
  readonly #visitor: string;
  readonly #actions: BrowserActions;
  readonly #sessions: ClientValues;
  readonly #warn: (line: string) => void;
  #pageKv: Map<string, string> | null = null;

  constructor(
    instance: ToolInstance,
    view: PrivacyView,
    row: EventRow,
    actions: BrowserActions,
    sessions: ClientValues,
    warn: (line: string) => void,
  ) {
    this.url = view.url;
    this.ip = view.ip;
    this.userAgent = view.userAgent;
    this.language = view.language;
    this.referer = view.referer;
    if (view.title !== undefined) this.title = view.title;
    this.timestamp = view.timestamp;
    if (view.timezoneOffset !== null) this.timezoneOffset = view.timezoneOffset;
    if (view.viewportWidth !== null) this.viewportWidth = view.viewportWidth;
    if (view.viewportHeight !== null) this.viewportHeight = view.viewportHeight;
    this.#instance = instance;
    this.#clientId = view.clientId;
    this.#visitor = row.visitorHash ?? 'anonymous';
    this.#actions = actions;
    this.#sessions = sessions;
    this.#warn = warn;
  }

  #kvKey(tool: string, key: string): string {
    return `${tool}\u0000${this.#visitor}\u0000${key}`;
  }

  #refuseBrowser(what: string): boolean {
    countRefusedBrowser(this.#instance, 1, what, this.#warn);
    return false;
  }

  fetch(resource: string, settings?: RequestInit): boolean {
    const instance = this.#instance;
    if (instance.policy.browserRequests === 'refuse') return this.#refuseBrowser('client.fetch');
    if (!instance.can('client_network_requests'))
      throw new PermissionError('client.fetch needs client_network_requests');
    this.#actions.fetch.push([resource, settings ?? {}]);
    return true;
  }

  execute(code: string): boolean {
    const instance = this.#instance;
    if (instance.policy.browserRequests === 'refuse') return this.#refuseBrowser('client.execute');
    if (!instance.can('execute_unsafe_scripts'))
      throw new PermissionError('client.execute needs execute_unsafe_scripts');
    this.#actions.execute.push(code);
    return true;
  }

  return(value: unknown): void {
    this.#actions.return[this.#instance.tool.id] = value;
  }

  set(key: string, value?: string | null, options?: ClientSetOptions): boolean {
    const instance = this.#instance;
    if (!instance.can('access_client_kv')) throw new PermissionError('client.set needs access_client_kv');
    const scope = options?.scope ?? 'infinite';
    if (scope === 'page') {
      if (value === null || value === undefined) this.#pageKv?.delete(key);
      else (this.#pageKv ??= new Map()).set(key, value);
      return true;
    }
    const id = this.#kvKey(instance.tool.id, key);
    const sessions = this.#sessions;
    if (value === null || value === undefined) sessions.delete(id);
    else {
      if (sessions.size >= MAX_KV) sessions.clear();
      sessions.set(id, { value, expires: Date.now() + (scope === 'session' ? SESSION_MS : DAY_MS) });
    }
    return true;
  }

  get(key: string, tool?: string): string | undefined {
    const instance = this.#instance;
    if (key === 'client_id' && !tool) return this.#clientId;
    if (!instance.can('access_client_kv')) throw new PermissionError('client.get needs access_client_kv');
    if (tool && tool !== instance.tool.id && !instance.can('access_extended_client_kv'))
      throw new PermissionError(`reading ${tool}'s client values needs access_extended_client_kv`);
    const page = tool ? undefined : this.#pageKv?.get(key);
    if (page !== undefined) return page;
    const hit = this.#sessions.get(this.#kvKey(tool ?? instance.tool.id, key));
    return hit && hit.expires > Date.now() ? hit.value : undefined;
  }

  attachEvent(type: ClientEventType): void {
    const listeners = this.#instance.clientListeners;
    listeners.set(type, listeners.get(type) ?? []);
  }

  detachEvent(type: ClientEventType): void {
    this.#instance.clientListeners.delete(type);
  }
}
