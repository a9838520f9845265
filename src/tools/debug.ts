import type { ToolConfig } from '../config/schema.js';
import type { OutgoingRequest } from './egress.js';
import type { Manifest } from './manifest.js';

/** One request as debug mode shows it: as sent (after privacy), secrets masked; or refused. */
export interface DebugRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
  /** Why the egress guard refused it (then nothing was sent). */
  blocked?: string;
}

/** What one tool did with one event, for debug mode. */
export interface DebugTool {
  tool: string;
  component: string;
  outcome:
    | 'sent'
    | 'nothing sent'
    | 'consent denied'
    | 'blocked by a trigger'
    | 'no action fired'
    | 'dropped by DLP'
    | 'disabled';
  /** The event types its actions fired (or the event's own, without actions). */
  fired: string[];
  requests: DebugRequest[];
}

/** What debug mode answers for one event: which triggers matched, and each tool's part. */
export interface DebugTrace {
  event: { id: string; type: string; name: string | null };
  triggers: Record<string, boolean>;
  tools: DebugTool[];
}

const MASK = '••••';
const SECRET_NAME = /secret|token|key|password|passwd|auth|signature|credential/i;
const SECRET_HEADER = /^(authorization|cookie|proxy-authorization)$|token|secret|signature|api-key|apikey/i;

/** The values of a tool's settings that are secrets (declared so, or named like one), longest first. */
export function secretValues(tool: ToolConfig, manifest: Manifest): string[] {
  return Object.entries(tool.settings)
    .filter(
      ([name, value]) =>
        typeof value === 'string' &&
        value.length >= 4 &&
        (manifest.settings[name]?.secret || SECRET_NAME.test(name)),
    )
    .map(([, value]) => value as string)
    .sort((a, b) => b.length - a.length);
}

/** A request with every secret value (and secret-looking header) masked. */
export function maskedRequest(
  request: OutgoingRequest,
  secrets: readonly string[],
  blocked?: string,
): DebugRequest {
  const mask = (text: string): string => {
    let out = text;
    for (const secret of secrets) {
      out = out.split(secret).join(MASK);
      const encoded = encodeURIComponent(secret);
      if (encoded !== secret) out = out.split(encoded).join(MASK);
    }
    return out;
  };
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers))
    headers[name] = SECRET_HEADER.test(name) ? MASK : mask(value);
  return {
    method: request.method,
    url: mask(request.url),
    headers,
    body: request.body === null ? null : mask(request.body),
    ...(blocked !== undefined ? { blocked } : {}),
  };
}
