import { sameHeaders, stored, type Delivery, type Pending } from './delivery.js';
import { Journal, type LineCodec } from './journal.js';
import type { OutboxRecord } from './ledger.js';

// An `add` whose body is JSON text the egress guard parsed is written with that text as it is,
// not escaped into a string: `{"op":"add","n":<length>,"body":<text>,"delivery":{…"body":null…}}`.
// The line is still one JSON text; `n` (its length in UTF-16 units) lets the reader take back the
// exact text (JSON.stringify of the parsed value could differ from it: spacing, escapes, large
// numbers). Escaping a body cost more than the rest of a delivery's journal record.
const ADD_PREFIX = '{"op":"add","n":';
const BODY_KEY = ',"body":';

/** What a tool's deliveries share (all but their ids, times, attempts and body), and its JSON. */
interface Shared {
  site: string;
  url: string;
  method: string;
  headers: Record<string, string>;
  policy: string;
  operatorHosts: string[];
  quoteAnswers: boolean | undefined;
  sealAtSend: boolean | undefined;
  /** `"site":…,"tool":…,"request":{…,"body":null},"policy":…,…` */
  text: string;
}

/**
 * The outbox journal's lines. `jsonBody`: the delivery's body is JSON text (the egress guard
 * parsed it), which an `add` then carries unescaped; any other body is a JSON string as before.
 * What a tool's deliveries share is turned into JSON once per tool while it stays the same.
 */
export function outboxCodec(jsonBody: (delivery: Delivery) => boolean): LineCodec<OutboxRecord> {
  const shared = new Map<string, Shared>();
  const sharedText = (delivery: Delivery): string => {
    const { request } = delivery;
    const last = shared.get(delivery.tool);
    if (
      last !== undefined &&
      last.site === delivery.site &&
      last.url === request.url &&
      last.method === request.method &&
      last.policy === delivery.policy &&
      last.operatorHosts === delivery.operatorHosts &&
      last.quoteAnswers === delivery.quoteAnswers &&
      last.sealAtSend === delivery.sealAtSend &&
      sameHeaders(last.headers, request.headers)
    )
      return last.text;
    const { id: _i, eventId: _e, createdAt: _c, attempts: _a, ...rest } = stored(delivery, null);
    const text = JSON.stringify(rest).slice(1, -1);
    if (shared.size >= 256) shared.clear();
    shared.set(delivery.tool, {
      site: delivery.site,
      url: request.url,
      method: request.method,
      headers: request.headers,
      policy: delivery.policy,
      operatorHosts: delivery.operatorHosts,
      quoteAnswers: delivery.quoteAnswers,
      sealAtSend: delivery.sealAtSend,
      text,
    });
    return text;
  };
  return {
    encode(record) {
      if (record.op !== 'add') return JSON.stringify(record);
      const { delivery } = record;
      const body = delivery.request.body;
      // A JSON text may hold line breaks between its tokens: such a body is escaped.
      if (body === null || !jsonBody(delivery) || body.includes('\n'))
        return JSON.stringify({ op: 'add', delivery: stored(delivery, body) });
      const own = `"id":${JSON.stringify(delivery.id)},"eventId":${JSON.stringify(delivery.eventId)},"createdAt":${delivery.createdAt},"attempts":${delivery.attempts}`;
      return `${ADD_PREFIX}${body.length}${BODY_KEY}${body},"delivery":{${own},${sharedText(delivery)}}}`;
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

/** The outbox's journal at `path`: a delivery still holding its parsed body has a JSON body. */
export function outboxJournal(path: string): Journal<OutboxRecord> {
  return new Journal<OutboxRecord>(
    path,
    outboxCodec((delivery) => (delivery as Pending).json !== undefined),
  );
}
