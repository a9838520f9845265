/** The first line of an error's message (what a log line or a CLI problem carries), never a stack. */
export function errorLine(error: unknown): string {
  return error instanceof Error ? (error.message.split('\n')[0] ?? error.name) : String(error);
}

/** What a client needs to know of an error code: its HTTP status, what it means, what to do. */
export interface ErrorInfo {
  status: number;
  meaning: string;
  whatToDo: string;
}

/**
 * Every error code a client can see, with its one HTTP status. docs/errors.md is generated from
 * this table (`npm run errors-doc`; a test fails when it is stale). Codes are stable; add new
 * ones, never change what one means.
 */
export const ERRORS = {
  invalid_json: {
    status: 400,
    meaning: 'body empty, not JSON, or uses `__proto__` / `constructor` keys',
    whatToDo: 'send one JSON object',
  },
  invalid_encoding: { status: 400, meaning: 'body is not valid UTF-8', whatToDo: 'encode the body as UTF-8' },
  invalid_event: {
    status: 400,
    meaning: 'an event breaks the schema; `path` names the field, e.g. `events[1].screenWidth`',
    whatToDo: 'fix that field (types are strict: numbers are never accepted as strings)',
  },
  too_many_events: {
    status: 400,
    meaning: 'more than 50 events in one request',
    whatToDo: 'split the batch',
  },
  invalid_request: {
    status: 400,
    meaning: 'malformed HTTP request (e.g. a content-length that does not match the body)',
    whatToDo: 'send a well-formed request',
  },
  too_deep: {
    status: 400,
    meaning: 'the body nests arrays and objects more than 32 levels deep',
    whatToDo: 'flatten it (`payload` takes 4 levels)',
  },
  invalid_query: {
    status: 400,
    meaning: 'an insights, detector, egress or audit query breaks its schema; `path` names the field',
    whatToDo: 'fix that field (the message lists what is allowed)',
  },
  range_too_large: {
    status: 400,
    meaning: 'the query asks for more buckets than one answer holds',
    whatToDo: 'use a larger interval or a shorter range',
  },
  invalid_login: {
    status: 400,
    meaning: 'the login body is not `{"password": "…"}`',
    whatToDo: 'send the password as JSON',
  },
  invalid_config: {
    status: 400,
    meaning: 'a settings change breaks the config schema; `error.problems` lists every `{path, message}`',
    whatToDo: 'fix each field named',
  },
  invalid_tool: {
    status: 400,
    meaning: 'a settings change names a tool that cannot start (component, manifest, required setting, EU)',
    whatToDo: "fix the tool's settings",
  },
  not_applied: {
    status: 400,
    meaning: 'a settings change is valid but could not be applied (the message says why)',
    whatToDo: 'fix what the message names, or restart the gateway for that change',
  },
  component_not_allowed: {
    status: 400,
    meaning: 'a settings change names a component that is neither built in nor already used by the file',
    whatToDo: 'add it to the configuration file first (it runs code in the gateway)',
  },
  path_not_allowed: {
    status: 400,
    meaning: 'a settings change names a tracker rules file the configuration file does not already use',
    whatToDo: 'add it to the configuration file first (the gateway reads it)',
  },
  host_not_allowed: {
    status: 400,
    meaning: "a settings change adds a host to a tool's `allowHosts` (private addresses, plain http)",
    whatToDo: 'add it to the configuration file first',
  },
  permission_not_allowed: {
    status: 400,
    meaning: 'a settings change grants a tool a permission (`permissions`) the configuration file does not',
    whatToDo: 'grant it in the configuration file first',
  },
  invalid_settings: {
    status: 400,
    meaning: 'the settings body is not `{"site": {…}}`',
    whatToDo: 'send the site as an object',
  },
  unauthorized: {
    status: 401,
    meaning: 'no valid API token or dashboard session, or a wrong password',
    whatToDo: 'send `Authorization: Bearer …` with a token from `admin.tokens`, or log in again',
  },
  unknown_site: {
    status: 403,
    meaning:
      'neither the `Host` nor the `Origin` is a configured site host or alias (a `Host` with anything but a port after the name counts as none)',
    whatToDo: 'add the host to `sites[].host` or `aliases`',
  },
  origin_mismatch: {
    status: 403,
    meaning: 'the `Origin` belongs to a different site than the `Host`',
    whatToDo: "send events to the site's own gateway path",
  },
  csrf: {
    status: 403,
    meaning: "a dashboard change without the session's CSRF token",
    whatToDo: 'send the `x-balise-csrf` header the session gave',
  },
  dashboard_disabled: {
    status: 403,
    meaning: 'the dashboard login is off: no `admin.passwordHash` in the configuration',
    whatToDo: 'set one (`balise password hash`)',
  },
  not_found: { status: 404, meaning: 'no such route', whatToDo: 'check `server.prefix`' },
  no_such_alert: {
    status: 404,
    meaning: 'no alert with that id in the alert log',
    whatToDo: 'take the id from GET {prefix}/api/v1/alerts',
  },
  no_such_site: {
    status: 404,
    meaning: '(settings) no site with that host in the configuration file',
    whatToDo: 'reload the settings',
  },
  settings_conflict: {
    status: 409,
    meaning: 'the configuration file changed since the revision sent in `If-Match`',
    whatToDo: 'reload the settings and make the change again',
  },
  settings_read_only: {
    status: 409,
    meaning: 'the gateway runs without a configuration file',
    whatToDo: 'start it with `balise serve --config FILE`',
  },
  site_exists: {
    status: 409,
    meaning: '(settings) adding a site whose host is already configured',
    whatToDo: 'edit that site',
  },
  body_too_large: {
    status: 413,
    meaning: 'body larger than 64 KB',
    whatToDo: 'send fewer events per request',
  },
  unsupported_media_type: {
    status: 415,
    meaning: 'content type other than `application/json` or `text/plain`',
    whatToDo: 'use one of those',
  },
  unsupported_content_encoding: {
    status: 415,
    meaning: 'the body has a `Content-Encoding` (gzip, br …); the gateway does not decode request bodies',
    whatToDo: 'send it uncompressed',
  },
  unsupported_charset: {
    status: 415,
    meaning: 'the content type names a charset other than UTF-8 (e.g. `charset=utf-16`)',
    whatToDo: 'encode the body as UTF-8',
  },
  revision_required: {
    status: 428,
    meaning: 'a settings change without `If-Match`',
    whatToDo: 'send the revision read with `GET /api/v1/settings`',
  },
  rate_limited: {
    status: 429,
    meaning:
      'too many requests from this IP or for this site in the current minute, or too many login attempts (docs/dashboard.md); `Retry-After` says when',
    whatToDo: 'wait; raise `server.rateLimit` if legitimate',
  },
  internal: {
    status: 500,
    meaning:
      "a bug; reported in the gateway's log with its code, route and request id (the answer's `X-Request-Id`)",
    whatToDo: 'report it',
  },
  config_unreadable: {
    status: 500,
    meaning: 'the configuration file cannot be read or parsed any more (edited by hand)',
    whatToDo: 'fix the file; the message says where',
  },
  tool_failed: {
    status: 502,
    meaning: "a tool's browser-side call (a Managed Component route) failed in the component",
    whatToDo: "see the gateway's log for the tool and its error",
  },
  overloaded: {
    status: 503,
    meaning: 'the store is behind by more than `store.maxPendingRows` rows; `Retry-After: 1`',
    whatToDo: 'retry; check the store',
  },
  outbox_full: {
    status: 503,
    meaning:
      "the gateway's outbox holds `outbox.maxPending` deliveries (a vendor down, or slower than the traffic): events of every site with tools are refused until it drains; nothing of the request was kept; `Retry-After: 1`",
    whatToDo: 'retry; see the tools in `/metrics` (`balise_outbox_pending`) and the egress log',
  },
  storage_unavailable: {
    status: 503,
    meaning:
      'the gateway cannot write its spool (full disk, I/O error): nothing of the request was kept; `Retry-After: 5`',
    whatToDo: 'retry; free disk space — the gateway accepts again by itself',
  },
  query_timeout: {
    status: 503,
    meaning: 'an insights query ran longer than its time limit (10 s) and was interrupted',
    whatToDo: 'use a shorter range or a larger interval',
  },
  tool_timeout: {
    status: 504,
    meaning: "a tool's browser-side call (a Managed Component route) did not answer in time",
    whatToDo: "retry; see the gateway's log for the tool",
  },
} as const satisfies Record<string, ErrorInfo>;

/** A code of the table above. */
export type ErrorCode = keyof typeof ERRORS;

/**
 * The one error type clients see: a stable `code` (its HTTP status comes from ERRORS), a plain
 * message (and, for validation, the failing `path`). Never a stack or an internal object.
 */
export class BaliseError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly path?: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'BaliseError';
    this.status = ERRORS[code].status;
  }

  /** The JSON body sent to clients: `{"error":{"code","message","path"?}}`. */
  toJSON(): { error: { code: string; message: string; path?: string } } {
    return { error: { code: this.code, message: this.message, ...(this.path ? { path: this.path } : {}) } };
  }
}
