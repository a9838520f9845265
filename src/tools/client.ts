import type { Client } from '@managed-components/types';
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
  return {
    ...(view.timezoneOffset !== null ? { timezoneOffset: view.timezoneOffset } : {}),
    ...(view.viewportWidth !== null ? { viewportWidth: view.viewportWidth } : {}),
    ...(view.viewportHeight !== null ? { viewportHeight: view.viewportHeight } : {}),
  };
}

/** The Client of one event for one tool: the privacy view, plus KV and browser actions. */
export function toolClient(
  instance: ToolInstance,
  view: PrivacyView,
  row: EventRow,
  pageKv: Map<string, string>,
  actions: BrowserActions,
  sessions: ClientValues,
  warn: (line: string) => void,
): Client {
  const visitor = row.visitorHash ?? 'anonymous';
  const kvKey = (tool: string, key: string) => `${tool}\u0000${visitor}\u0000${key}`;
  const refuseBrowser = (what: string): boolean => {
    countRefusedBrowser(instance, 1, what, warn);
    return false;
  };
  return {
    emitter: 'browser',
    url: view.url,
    ip: view.ip,
    userAgent: view.userAgent,
    language: view.language,
    referer: view.referer,
    ...(view.title !== undefined ? { title: view.title } : {}),
    timestamp: view.timestamp,
    ...optionalClientFields(view),
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
