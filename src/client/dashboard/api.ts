/** The dashboard's calls to the gateway: same-origin, session cookie, CSRF header on changes. */

/** What `{prefix}/ui/session` answers once logged in. */
export interface SessionInfo {
  authenticated: boolean;
  csrf: string;
  prefix: string;
  sites: { host: string; group: string | null; timezone: string }[];
  groups: string[];
}

/** A series row of `/api/v1/series`. */
export interface Row {
  time: string;
  value: number | null;
  baseline?: number | null;
  change?: number | null;
  label?: string;
  [key: string]: unknown;
}

/** One problem of a refused settings change. */
export interface Problem {
  path: string;
  message: string;
}

/** An error answer of the API, with its stable code and, for settings, every problem by path. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
  }
}

/** The gateway's base path (everything before /ui/). */
export const base = location.pathname.replace(/\/ui\/.*$/, '');

let current: SessionInfo | null = null;
let onLoggedOut: () => void = () => undefined;

/** The session in use (null before login). */
export function session(): SessionInfo | null {
  return current;
}

/** Sets the session (after login) or clears it, and what to do when the gateway says 401. */
export function setSession(info: SessionInfo | null, loggedOut?: () => void): void {
  current = info;
  if (loggedOut) onLoggedOut = loggedOut;
}

/** Calls the gateway: GET without a body, POST with one, or the given method. */
export async function api<T>(
  path: string,
  body?: unknown,
  options: { method?: string; ifMatch?: string } = {},
): Promise<T> {
  const method = options.method ?? (body === undefined ? 'GET' : 'POST');
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (current) headers['x-balise-csrf'] = current.csrf;
  if (options.ifMatch) headers['if-match'] = `"${options.ifMatch}"`;
  const response = await fetch(`${base}${path}`, {
    method,
    credentials: 'same-origin',
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status === 401) {
    current = null;
    onLoggedOut();
    throw new ApiError('logged out', 401, 'unauthorized');
  }
  const data = (await response.json().catch(() => ({}))) as T & {
    error?: { message: string; code: string; problems?: Problem[] };
  };
  if (!response.ok)
    throw new ApiError(
      data.error?.message ?? `HTTP ${response.status}`,
      response.status,
      data.error?.code ?? 'error',
      data.error?.problems ?? [],
    );
  return data;
}
