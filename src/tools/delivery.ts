import type { OutgoingRequest } from './egress.js';

/** One request to a vendor, durable from the moment `enqueue` resolves. */
export interface Delivery {
  /** Event id + tool id (+ an index when a tool sends several requests for one event). */
  id: string;
  site: string;
  tool: string;
  eventId: string;
  request: OutgoingRequest;
  /** Which policy allowed it, for the egress log (e.g. `ga4 region=eu ip=hide ua=reduce dlp=mask`). */
  policy: string;
  /** Hosts the operator listed for this tool (private addresses allowed only for those). */
  operatorHosts: string[];
  /**
   * The destination is one of the component's own vendor hosts: a short, sanitised excerpt of
   * an error answer may be kept in the egress log. Absent or false (a webhook's URL, an
   * allowHosts host): only the status is — an answer from an address chosen through the
   * settings must not become a way to read internal services.
   */
  quoteAnswers?: boolean;
  /**
   * Its tool's component signs each request as it leaves (the manifest's `batch.vary`, by the
   * component's `seal`): without that tool configured any more, the request is not sent.
   */
  sealAtSend?: boolean;
  createdAt: number;
  attempts: number;
}

/** A delivery that will not be retried: a 4xx from the vendor (with its message) or too many attempts. */
export interface DeadLetter {
  delivery: Delivery;
  status: number | null;
  message: string;
  at: number;
}

/**
 * How one tool's requests may travel together (its manifest's `batch`): requests with the same
 * site, method, URL, headers (but those named in `vary`) and JSON body apart from the array
 * `field` are sent as one request whose `field` holds every item, up to `max` items and `maxBytes`
 * of bodies. `seal` re-makes the `vary` headers (e.g. a signature) of the request being sent.
 */
export interface BatchRule {
  field: string;
  max: number;
  maxBytes: number;
  vary: readonly string[];
  seal?: (request: OutgoingRequest) => OutgoingRequest;
}

/** A JSON body split into what is shared by a batch and its items (computed once per delivery). */
export interface BatchPart {
  key: string;
  body: { [key: string]: unknown };
  items: unknown[];
  bytes: number;
}

/** Pending deliveries up to which a new one keeps its parsed JSON body (`json`) for its batch. */
export const PARSED_KEPT = 10_000;

/** True when two requests' headers are the same, names in `except` aside. */
export function sameHeaders(
  a: Readonly<Record<string, string>>,
  b: Readonly<Record<string, string>>,
  except: readonly string[] = [],
): boolean {
  if (a === b) return true;
  for (const name in b) if (a[name] !== b[name] && !except.includes(name)) return false;
  for (const name in a) if (!(name in b) && !except.includes(name)) return false;
  return true;
}

/** A delivery in memory: when it may be sent, since when it waits, and how it may be batched. */
export type Pending = Delivery & {
  nextAt: number;
  readyAt?: number;
  /** Sent alone from now on (its batch was refused). */
  solo?: boolean;
  /** Its batch key and items under `partRule` (null: it cannot travel in a batch). */
  part?: BatchPart | null;
  partRule?: BatchRule;
  /**
   * The value of its JSON body, as the egress guard parsed it when the delivery was made: kept
   * until its first attempt (a backlog and retries keep only the text, parsed again when sent).
   */
  json?: unknown;
};

/**
 * A delivery as the journal keeps it: every field of a Delivery written out (what only memory
 * needs left behind), with `body` in its request. Listing the fields (`DELIVERY_FIELDS` checks the
 * list against the type) is cheaper than a rest-spread, and a field added to memory only needs no
 * change here.
 */
export function stored(delivery: Delivery, body: string | null = delivery.request.body): Delivery {
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

/** The fields `stored` writes: a field added to Delivery and not written there fails to compile. */
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

/** Time until the next attempt: exponential from `base`, capped, with ±50 % jitter. */
export function backoff(attempts: number, base: number, max: number, random = Math.random): number {
  const delay = Math.min(max, base * 2 ** Math.max(0, attempts - 1));
  return Math.round(delay * (0.5 + random()));
}

/**
 * What a vendor's answer means for the deliveries that travelled in one request: sent (2xx);
 * refused (another 4xx, or a redirect, never followed) — dead when alone, each sent alone when
 * batched (one bad event must not bury the others); otherwise (no answer, 408, 429, 5xx) retried
 * until the members' `attempts` reach `maxAttempts`.
 */
export type Verdict =
  | { outcome: 'sent' }
  | { outcome: 'split'; reason: string }
  /** `retryable`: the answer was a failure worth retrying (counts against the circuit breaker). */
  | { outcome: 'dead'; reason: string; retryable: boolean }
  | { outcome: 'retry'; reason: string; attempts: number };

/** The verdict on `group` after an answer `status` (null: none) with `message`. */
export function verdictOf(
  group: readonly Delivery[],
  status: number | null,
  message: string,
  maxAttempts: number,
): Verdict {
  if (status !== null && status >= 200 && status < 300) return { outcome: 'sent' };
  const said = message || `HTTP ${status}`;
  if (status !== null && status !== 408 && status !== 429 && status < 500) {
    const reason = status >= 300 && status < 400 ? `redirect ${status} not followed` : said;
    return group.length > 1
      ? {
          outcome: 'split',
          reason: `batch refused (${reason}); its ${group.length} deliveries are sent one by one`,
        }
      : { outcome: 'dead', reason, retryable: false };
  }
  const attempts = Math.max(...group.map((member) => member.attempts)) + 1;
  return attempts >= maxAttempts
    ? { outcome: 'dead', reason: `gave up after ${attempts} attempts: ${said}`, retryable: true }
    : { outcome: 'retry', reason: said, attempts };
}
