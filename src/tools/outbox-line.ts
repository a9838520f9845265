import type { Delivery } from './delivery.js';
import type { OutboxRecord } from './ledger.js';

/** How a journal writes and reads its records (default: one JSON text per line). */
export interface LineCodec<T> {
  encode(record: T): string;
  decode(line: string): T;
}

// An `add` whose body is JSON text the egress guard parsed is written with that text as it is,
// not escaped into a string: `{"op":"add","n":<length>,"body":<text>,"delivery":{…"body":null…}}`.
// The line is still one JSON text; `n` (its length in UTF-16 units) lets the reader take back the
// exact text (JSON.stringify of the parsed value could differ from it: spacing, escapes, large
// numbers). Escaping a body cost more than the rest of a delivery's journal record.
const ADD_PREFIX = '{"op":"add","n":';
const BODY_KEY = ',"body":';

/**
 * Every field of a delivery, written out (its in-memory fields left behind), with `body` in its
 * request. Listing the fields (`DELIVERY_FIELDS` checks the list against the type) is cheaper
 * than a rest-spread and keeps the journal's records to what a delivery is.
 */
function deliveryFields(delivery: Delivery, body: string | null): Delivery {
  const { request } = delivery;
  const out: Delivery = {
    id: delivery.id,
    site: delivery.site,
    tool: delivery.tool,
    eventId: delivery.eventId,
    request: { url: request.url, method: request.method, headers: request.headers, body },
    policy: delivery.policy,
    operatorHosts: delivery.operatorHosts,
    createdAt: delivery.createdAt,
    attempts: delivery.attempts,
  };
  if (delivery.quoteAnswers !== undefined) out.quoteAnswers = delivery.quoteAnswers;
  if (delivery.sealAtSend !== undefined) out.sealAtSend = delivery.sealAtSend;
  return out;
}

/** The fields `deliveryFields` writes: a field added to Delivery and not written fails to compile. */
export const DELIVERY_FIELDS = {
  id: true,
  site: true,
  tool: true,
  eventId: true,
  request: true,
  policy: true,
  operatorHosts: true,
  quoteAnswers: true,
  sealAtSend: true,
  createdAt: true,
  attempts: true,
} as const satisfies Record<keyof Delivery, true>;

/**
 * The outbox journal's lines. `jsonBody`: the delivery's body is JSON text (the egress guard
 * parsed it), which an `add` then carries unescaped; any other body is a JSON string as before.
 */
export function outboxCodec(jsonBody: (delivery: Delivery) => boolean): LineCodec<OutboxRecord> {
  return {
    encode(record) {
      if (record.op !== 'add') return JSON.stringify(record);
      const { delivery } = record;
      const body = delivery.request.body;
      // A JSON text may hold line breaks between its tokens: such a body is escaped.
      if (body === null || !jsonBody(delivery) || body.includes('\n'))
        return JSON.stringify({ op: 'add', delivery: deliveryFields(delivery, body) });
      const rest = JSON.stringify(deliveryFields(delivery, null));
      return `${ADD_PREFIX}${body.length}${BODY_KEY}${body},"delivery":${rest}}`;
    },
    decode(line) {
      const record = JSON.parse(line) as OutboxRecord & { n?: unknown };
      if (record.op !== 'add' || typeof record.n !== 'number') return record;
      const start = ADD_PREFIX.length + String(record.n).length + BODY_KEY.length;
      const delivery = record.delivery;
      delivery.request.body = line.slice(start, start + record.n);
      return { op: 'add', delivery };
    },
  };
}
