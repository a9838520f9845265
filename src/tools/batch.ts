import type { OutgoingRequest } from './egress.js';
import type { IdQueue } from './id-queue.js';
import { sameHeaders, type BatchPart, type BatchRule, type Pending } from './delivery.js';

/** What a tool's deliveries share besides their bodies, and its JSON, by batch rule (one per tool). */
interface Tail {
  url: string;
  method: string;
  site: string;
  headers: Readonly<Record<string, string>>;
  text: string;
}
const tails = new WeakMap<BatchRule, Tail>();

/**
 * The part of a delivery's batch key besides its body: URL, headers (those the rule's seal makes
 * aside) in name order, method and site — turned into JSON once while a tool's stay the same.
 */
function tailOf(delivery: Pending, rule: BatchRule): string {
  const { request, site } = delivery;
  const last = tails.get(rule);
  if (
    last !== undefined &&
    last.url === request.url &&
    last.method === request.method &&
    last.site === site &&
    sameHeaders(last.headers, request.headers, rule.vary)
  )
    return last.text;
  const headers = Object.entries(request.headers)
    .filter(([name]) => !rule.vary.includes(name))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  const text = JSON.stringify([request.url, headers, request.method, site]);
  tails.set(rule, { url: request.url, method: request.method, site, headers: request.headers, text });
  return text;
}

/** The batch key and items of a delivery's JSON body, or null when it has no array `field`. */
function batchPart(delivery: Pending, rule: BatchRule): BatchPart | null {
  const { request } = delivery;
  if (request.body === null || !/json/i.test(request.headers['content-type'] ?? '')) return null;
  let body = delivery.json;
  delivery.json = undefined;
  try {
    body ??= JSON.parse(request.body);
  } catch {
    return null;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const fields = body as { [key: string]: unknown };
  const items = fields[rule.field];
  if (!Array.isArray(items) || items.length === 0) return null;
  // The body but its items (no `delete`: a deleted key makes the object a slow dictionary).
  const shared: { [key: string]: unknown } = {};
  for (const key of Object.keys(fields)) if (key !== rule.field) shared[key] = fields[key];
  return {
    // What varies most first (GA4's client_id is in `shared`): keys that differ differ early. A
    // newline cannot occur in JSON text: it ends the body's part unambiguously.
    key: `${JSON.stringify(shared)}\n${tailOf(delivery, rule)}`,
    body: fields,
    items,
    bytes: Buffer.byteLength(request.body),
  };
}

/** A delivery's batch key and items, or null when its body cannot be batched. */
export function partOf(delivery: Pending, rule: BatchRule): BatchPart | null {
  // Computed once per rule (a configuration change brings new rules).
  if (delivery.partRule !== rule) {
    delivery.part = batchPart(delivery, rule);
    delivery.partRule = rule;
  }
  return delivery.part ?? null;
}

/**
 * The deliveries that travel with `head`: those of its tool's queue (a bounded look-ahead) with
 * the same batch key, up to the rule's count and bytes; taken out of the queue and marked as
 * being sent. The look-ahead ends after `rule.max` deliveries in a row that cannot join: where
 * keys differ per visitor (GA4's client_id) most heads travel alone, and looking through the
 * whole window for each of them cost more than sending it.
 */
export function gather(
  queue: IdQueue,
  head: Pending,
  rule: BatchRule,
  pending: ReadonlyMap<string, Pending>,
  sending: Set<string>,
): Pending[] {
  const first = partOf(head, rule);
  if (!first) return [head];
  const group = [head];
  let bytes = first.bytes;
  let misses = 0;
  let looked = 0;
  const lookAhead = Math.min(queue.length, rule.max * 8);
  while (looked < lookAhead && group.length < rule.max && misses < rule.max) {
    const id = queue.at(looked++)!;
    const candidate = pending.get(id);
    if (candidate && !candidate.solo && !sending.has(id)) {
      const part = partOf(candidate, rule);
      if (part && part.key === first.key && bytes + part.bytes <= rule.maxBytes) {
        sending.add(id);
        group.push(candidate);
        bytes += part.bytes;
        misses = 0;
        continue;
      }
    }
    misses++;
  }
  if (group.length > 1) {
    const taken = new Set(group.map((member) => member.id));
    queue.takeFromFront(looked, (id) => taken.has(id));
  }
  return group;
}

/**
 * The request a group travels as: one delivery's own, or the batch under `rule`; sealed by
 * `sealing` (its tool's rule) when that has a seal. Throws when a delivery its component left to
 * be signed as it leaves (`sealAtSend`) has no seal to get (its tool is no longer configured) or
 * the seal fails.
 */
export function batchRequest(
  group: readonly Pending[],
  rule: BatchRule | undefined,
  sealing: BatchRule | undefined,
): OutgoingRequest {
  const first = group[0]!;
  let request = first.request;
  if (group.length > 1 && rule) {
    const body = { ...first.part!.body };
    body[rule.field] = group.flatMap((member) => member.part!.items);
    request = { ...request, body: JSON.stringify(body) };
  }
  if (first.sealAtSend && !sealing?.seal) throw new Error('its tool is no longer configured');
  if (!sealing?.seal) return request;
  const sealed = sealing.seal(request);
  const headers = { ...request.headers };
  for (const name of sealing.vary) {
    const value = sealed.headers[name];
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  return { ...request, headers };
}
