import { sameHeaders, stored, type Delivery, type Pending } from './delivery.js';
import { Journal, type LineCodec } from './journal.js';
import type { OutboxRecord } from './ledger.js';

// An `add` whose body is JSON text the egress guard parsed is written with that text as it is,
// not escaped into a string: `{"op":"add","n":<length>,"body":<text>,"delivery":{…"body":null…}}`.
// The line is still one JSON text; `n` (its length in UTF-16 units) lets the reader take back the
// exact text (JSON.stringify of the parsed value could differ from it: spacing, escapes, large
// numbers). Escaping a body cost more than the rest of a delivery's journal record.
//
// In a write of several records (`encodeAll`: a group commit's), what deliveries share — site,
// tool, request but its body, policy… (≈ 45 % of a line) — is written once, on a line of its own
// before them, `{"op":"shared","k":<n>,"s":{…}}`, and each of them says which, `{"op":"add",…,
// "delivery":{id, eventId, createdAt, attempts},"k":<n>}`. A write refers only to its own shared
// lines (written whole with it): a compaction or a crash never leaves an add without them.
const ADD_PREFIX = '{"op":"add","n":';
const BODY_KEY = ',"body":';
const SHARED_PREFIX = '{"op":"shared","k":';

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
  /** A delivery's own values (`"id":…,"eventId":…,"createdAt":…,"attempts":…`). */
  const ownText = (delivery: Delivery): string =>
    `"id":${JSON.stringify(delivery.id)},"eventId":${JSON.stringify(delivery.eventId)},"createdAt":${delivery.createdAt},"attempts":${delivery.attempts}`;
  /** The JSON body an add carries unescaped, or null (no body, not JSON, or a line break in it). */
  const rawBody = (delivery: Delivery): string | null => {
    const body = delivery.request.body;
    // A JSON text may hold line breaks between its tokens: such a body is escaped.
    return body === null || !jsonBody(delivery) || body.includes('\n') ? null : body;
  };
  const encode = (record: OutboxRecord): string => {
    if (record.op !== 'add') return JSON.stringify(record);
    const { delivery } = record;
    const body = rawBody(delivery);
    if (body === null) return JSON.stringify({ op: 'add', delivery: stored(delivery) });
    return `${ADD_PREFIX}${body.length}${BODY_KEY}${body},"delivery":{${ownText(delivery)},${sharedText(delivery)}}}`;
  };
  // Shared values read so far, by number (a later write's line of the same number replaces it).
  const sharedRead = new Map<number, Omit<Delivery, 'id' | 'eventId' | 'createdAt' | 'attempts'>>();
  return {
    encode,
    encodeAll(records) {
      const lines: string[] = [];
      let numbers: Map<string, number> | null = null;
      for (const record of records) {
        const body = record.op === 'add' ? rawBody(record.delivery) : null;
        if (record.op !== 'add' || body === null) {
          lines.push(`${encode(record)}\n`);
          continue;
        }
        const { delivery } = record;
        const shared = sharedText(delivery);
        numbers ??= new Map();
        let k = numbers.get(shared);
        if (k === undefined) {
          numbers.set(shared, (k = numbers.size));
          lines.push(`${SHARED_PREFIX}${k},"s":{${shared}}}\n`);
        }
        lines.push(
          `${ADD_PREFIX}${body.length}${BODY_KEY}${body},"delivery":{${ownText(delivery)}},"k":${k}}\n`,
        );
      }
      return lines;
    },
    decode(line) {
      const record = JSON.parse(line) as (OutboxRecord & { n?: unknown; k?: unknown }) | SharedLine;
      if (record.op === 'shared') {
        sharedRead.set(record.k, record.s);
        return null;
      }
      if (record.op !== 'add' || typeof record.n !== 'number') return record;
      const start = ADD_PREFIX.length + String(record.n).length + BODY_KEY.length;
      const body = line.slice(start, start + record.n);
      if (typeof record.k !== 'number') {
        record.delivery.request.body = body;
        return { op: 'add', delivery: record.delivery };
      }
      const shared = sharedRead.get(record.k);
      if (!shared) throw new Error(`an add refers to shared values ${record.k} that its write lacks`);
      const { request } = shared;
      const delivery: Delivery = {
        ...shared,
        ...record.delivery,
        request: { url: request.url, method: request.method, headers: { ...request.headers }, body },
      };
      return { op: 'add', delivery };
    },
  };
}

/** A line of shared values (see `encodeAll`). */
interface SharedLine {
  op: 'shared';
  k: number;
  s: Omit<Delivery, 'id' | 'eventId' | 'createdAt' | 'attempts'>;
}

/** The outbox's journal at `path`: a delivery still holding its parsed body has a JSON body. */
export function outboxJournal(path: string): Journal<OutboxRecord> {
  return new Journal<OutboxRecord>(
    path,
    outboxCodec((delivery) => (delivery as Pending).json !== undefined),
  );
}
