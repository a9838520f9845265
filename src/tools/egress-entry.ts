import { bodyDigest, type OutgoingRequest } from './egress.js';
import type { EgressRecord } from '../store/egress.js';
import type { Delivery } from './delivery.js';

/** Characters kept of a vendor's error answer in the egress log and dead letters. */
export const ANSWER_EXCERPT_CHARS = 120;

/**
 * A vendor's answer as the egress log may quote it: control characters and runs of white space
 * made one space, markup and URLs removed, at most ANSWER_EXCERPT_CHARS characters.
 */
export function answerExcerpt(body: string): string {
  const text = body
    .slice(0, 4096)
    .replace(/<[^>]*>/g, ' ')
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '[url]')
    // eslint-disable-next-line no-control-regex -- control characters are what it removes
    .replace(/[\u0000-\u001f\u007f-\u009f\s]+/g, ' ')
    .trim();
  return text.length > ANSWER_EXCERPT_CHARS ? `${text.slice(0, ANSWER_EXCERPT_CHARS - 1)}…` : text;
}

/**
 * What the egress log says of a request carrying `group`, whatever its outcome. `parsed`: the
 * values its JSON body was made of, when at hand (their keys are the body's, read without the text).
 */
export function egressBase(
  group: readonly Delivery[],
  request: OutgoingRequest,
  url = new URL(request.url),
  parsed?: readonly unknown[],
) {
  const first = group[0]!;
  return {
    site: first.site,
    tool: first.tool,
    host: url.host,
    path: url.pathname,
    bytes: Buffer.byteLength(request.body ?? '') + Buffer.byteLength(request.url),
    sha256: bodyDigest(request.body),
    policy: first.policy,
    deliveryId: first.id,
    deliveries: group.length,
    fields: fieldNames(request, url, parsed),
  };
}

/**
 * The egress log's record of one attempt: `base` and the outcome, every field written out (a
 * spread of `base` took the slow path of object cloning: ≈ 5 % of the CPU of a delivery).
 */
export function egressRecord(
  base: ReturnType<typeof egressBase>,
  ts: number,
  outcome: EgressRecord['outcome'],
  status: number | null,
  reason: string | null,
): EgressRecord {
  return {
    ts,
    site: base.site,
    tool: base.tool,
    host: base.host,
    path: base.path,
    bytes: base.bytes,
    sha256: base.sha256,
    policy: base.policy,
    outcome,
    status,
    reason,
    deliveryId: base.deliveryId,
    deliveries: base.deliveries,
    fields: base.fields,
  };
}

// A JSON key's name: only from a conservative set of characters (a key the DLP masked,
// `[redacted:email]`, is not listed) — as a parsed key (JSON_NAME) or in a body's text (JSON_KEY:
// a quoted name then a colon).
const NAME = '[A-Za-z0-9_$.-]{1,64}';
const JSON_NAME = new RegExp(`^${NAME}$`);
const JSON_KEY = new RegExp(`"(${NAME})"\\s*:`, 'g');
const FIELD_NAME = /^[A-Za-z0-9_$.[\]-]{1,64}$/;
const MAX_FIELDS = 40;

/** Adds the keys of a parsed JSON value, at any depth (to 64 levels), that JSON_KEY would read. */
function jsonKeys(value: unknown, names: Set<string>, depth: number): void {
  if (depth > 64 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) jsonKeys(item, names, depth + 1);
    return;
  }
  for (const key in value) {
    if (!names.has(key) && JSON_NAME.test(key)) names.add(key);
    jsonKeys((value as Record<string, unknown>)[key], names, depth + 1);
  }
}

/**
 * The names of the fields a request carries (query parameters, JSON keys at any depth, form
 * keys), sorted and comma-joined, never a value; null when it carries none. `parsed`: the values
 * its JSON body was made of (the outbox has them: read without scanning the text).
 */
export function fieldNames(
  request: OutgoingRequest,
  url = new URL(request.url),
  parsed?: readonly unknown[],
): string | null {
  const names = new Set<string>();
  for (const key of url.searchParams.keys()) if (FIELD_NAME.test(key)) names.add(key);
  const body = request.body;
  if (body) {
    const type = request.headers['content-type'] ?? '';
    if (type.includes('json') && parsed) for (const value of parsed) jsonKeys(value, names, 0);
    else if (type.includes('json'))
      for (const match of body.slice(0, 65_536).matchAll(JSON_KEY)) names.add(match[1]!);
    else if (type.includes('x-www-form-urlencoded'))
      for (const key of new URLSearchParams(body).keys()) if (FIELD_NAME.test(key)) names.add(key);
  }
  if (names.size === 0) return null;
  return [...names].sort().slice(0, MAX_FIELDS).join(',');
}
