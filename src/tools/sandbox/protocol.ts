/**
 * Messages between the gateway and a sandboxed component's worker thread. Only plain data
 * crosses: the component never holds an object of the gateway's.
 */

/** What the worker needs to load a component. */
export interface SandboxStart {
  /** The bundle's source and file name (for stack traces and the ESM/CommonJS choice). */
  source: string;
  filename: string;
  /** A short name for messages (`site/tool`). */
  name: string;
  /** Longest a load, setup or listener may run (ms). */
  hookTimeoutMs: number;
}

/** The client of one event as the tool's privacy view made it. */
export interface SandboxClient {
  url: string;
  ip: string;
  userAgent: string;
  language: string;
  referer: string;
  title?: string;
  timestamp: number;
  timezoneOffset?: number;
  viewportWidth?: number;
  viewportHeight?: number;
  screenWidth?: number;
  screenHeight?: number;
  clientId: string;
  /** Which visitor's client values (session and infinite scope) the component reads and writes. */
  visitor: string;
  /** Whether client.fetch / client.execute reach the browser (privacy.browserRequests). */
  browserRequests: 'allow' | 'refuse';
}

/** Gateway → worker. */
export type HostMessage =
  | { op: 'start'; settings: Record<string, unknown>; permissions: string[] }
  | {
      op: 'dispatch';
      id: number;
      type: string;
      name?: string;
      payload: Record<string, unknown>;
      client: SandboxClient;
    }
  | { op: 'fetched'; call: number; status: number; body: string };

/** The first answer of the worker: the module's own manifest export, if any. */
export interface LoadedMessage {
  op: 'loaded';
  manifest: unknown;
  error?: string;
}

/** What a component asked of the browser during one event. */
export interface SandboxEffects {
  fetch: [string, Record<string, unknown>][];
  execute: string[];
  /** Set when the component called client.return (JSON-safe). */
  returned?: { value: unknown };
  refusedBrowserRequests: number;
}

/** A fault of the component during a call, by kind. */
export interface SandboxFault {
  kind: 'timeout' | 'permission' | 'error';
  message: string;
}

/** Worker → gateway. */
export type WorkerMessage =
  | LoadedMessage
  | { op: 'started'; error?: string; fault?: SandboxFault['kind'] }
  | { op: 'listen'; type: string }
  | { op: 'done'; id: number; effects: SandboxEffects; faults: SandboxFault[] }
  | {
      op: 'fetch';
      call: number;
      /** The dispatch this fetch belongs to (null: outside an event, e.g. at setup or from a timer). */
      dispatch: number | null;
      url: string;
      method: string;
      headers: Record<string, string>;
      body: string | null;
    }
  | { op: 'fault'; fault: SandboxFault };
