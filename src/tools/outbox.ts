import { join } from 'node:path';
import type { EgressRecord } from '../store/egress.js';
import type { Config } from '../config/schema.js';
import { bodyDigest, checkAddress, hostOf, recentLookups, type OutgoingRequest } from './egress.js';
import { Journal } from './journal.js';
import { httpTransport, type Transport } from './transport.js';

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
  createdAt: number;
  attempts: number;
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
interface BatchPart {
  key: string;
  body: { [key: string]: unknown };
  items: unknown[];
  bytes: number;
}

/** A delivery in memory: when it may be sent, since when it waits, and how it may be batched. */
type Pending = Delivery & {
  nextAt: number;
  readyAt?: number;
  /** Sent alone from now on (its batch was refused). */
  solo?: boolean;
  /** Its batch key and items under `partRule` (null: it cannot travel in a batch). */
  part?: BatchPart | null;
  partRule?: BatchRule;
};

/** A delivery that will not be retried: a 4xx from the vendor (with its message) or too many attempts. */
export interface DeadLetter {
  delivery: Delivery;
  status: number | null;
  message: string;
  at: number;
}

type Record =
  | { op: 'add'; delivery: Delivery }
  | { op: 'done'; id: string }
  | { op: 'attempt'; id: string; attempts: number }
  | { op: 'dead'; id: string; status: number | null; message: string; at: number }
  | { op: 'forget'; id: string };

export type { EgressRecord };

/** Settings of the outbox (config `outbox`). */
export type OutboxSettings = Config['outbox'];

const BREAKER_FAILURES = 5;
const BREAKER_OPEN_MS = 30_000;

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

/** A delivery as the journal keeps it (without what only memory needs). */
function stored(pending: Pending): Delivery {
  const { nextAt: _n, readyAt: _r, solo: _s, part: _p, partRule: _pr, ...delivery } = pending;
  return delivery;
}

/** The batch key and items of a delivery's JSON body, or null when it has no array `field`. */
function batchPart(delivery: Delivery, rule: BatchRule): BatchPart | null {
  const { request } = delivery;
  if (request.body === null || !/json/i.test(request.headers['content-type'] ?? '')) return null;
  let body: unknown;
  try {
    body = JSON.parse(request.body);
  } catch {
    return null;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const items = (body as { [key: string]: unknown })[rule.field];
  if (!Array.isArray(items) || items.length === 0) return null;
  const shared = { ...(body as { [key: string]: unknown }) };
  delete shared[rule.field];
  const headers = Object.entries(request.headers)
    .filter(([name]) => !rule.vary.includes(name))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return {
    key: JSON.stringify([delivery.site, request.method, request.url, headers, shared]),
    body: body as { [key: string]: unknown },
    items,
    bytes: Buffer.byteLength(request.body),
  };
}

/** What the egress log says of a request carrying `group`, whatever its outcome. */
function egressBase(group: readonly Pending[], request: OutgoingRequest, url = new URL(request.url)) {
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
    fields: fieldNames(request, url),
  };
}

// A JSON key as it appears in a body: a quoted name then a colon. Names only from a conservative
// set of characters (a key the DLP masked, `[redacted:email]`, is not listed).
const JSON_KEY = /"([A-Za-z0-9_$.-]{1,64})"\s*:/g;
const FIELD_NAME = /^[A-Za-z0-9_$.[\]-]{1,64}$/;
const MAX_FIELDS = 40;

/**
 * The names of the fields a request carries (query parameters, JSON keys at any depth, form
 * keys), sorted and comma-joined, never a value; null when it carries none.
 */
export function fieldNames(request: OutgoingRequest, url = new URL(request.url)): string | null {
  const names = new Set<string>();
  for (const key of url.searchParams.keys()) if (FIELD_NAME.test(key)) names.add(key);
  const body = request.body;
  if (body) {
    const type = request.headers['content-type'] ?? '';
    if (type.includes('json'))
      for (const match of body.slice(0, 65_536).matchAll(JSON_KEY)) names.add(match[1]!);
    else if (type.includes('x-www-form-urlencoded'))
      for (const key of new URLSearchParams(body).keys()) if (FIELD_NAME.test(key)) names.add(key);
  }
  if (names.size === 0) return null;
  return [...names].sort().slice(0, MAX_FIELDS).join(',');
}

/** Time until the next attempt: exponential from `base`, capped, with ±50 % jitter. */
export function backoff(attempts: number, base: number, max: number, random = Math.random): number {
  const delay = Math.min(max, base * 2 ** Math.max(0, attempts - 1));
  return Math.round(delay * (0.5 + random()));
}

/**
 * The durable outbox: deliveries are journalled (fsynced) before the browser gets its answer,
 * sent with a per-tool concurrency limit, retried with exponential backoff and jitter on
 * timeouts, network errors, 408, 429 and 5xx, and turned into dead letters on any other 4xx
 * (with the vendor's message) or after `maxAttempts`. A tool failing repeatedly opens its circuit
 * breaker for 30 s. After a crash the journal is replayed: every delivery not marked done is
 * sent again (vendors deduplicate by event id).
 */
export class Outbox {
  private readonly journal: Journal<Record>;
  private readonly pending = new Map<string, Pending>();
  private readonly dead = new Map<string, DeadLetter>();
  private readonly inFlight = new Map<string, number>();
  /** Ids ready to send, per tool, oldest first (a retry rejoins when its delay is over). */
  private readonly queues = new Map<string, string[]>();
  private readonly sending = new Set<string>();
  private pumpQueued = false;
  private readonly breakers = new Map<string, { failures: number; openUntil: number }>();
  private running = new Set<Promise<void>>();
  private closed = false;
  private finished = 0;
  private batching: (site: string, tool: string) => BatchRule | undefined = () => undefined;
  private wakeAt = Infinity;
  private wakeTimer: NodeJS.Timeout | null = null;
  /** False for an outbox opened to read or edit its journal (CLI): nothing is ever sent. */
  private delivering = true;

  private constructor(
    dir: string,
    private readonly settings: OutboxSettings,
    private readonly deps: {
      transport: Transport;
      log: (record: EgressRecord) => void;
      now: () => number;
      resolve?: (host: string) => Promise<string[]>;
    },
  ) {
    this.journal = new Journal<Record>(join(dir, 'journal.jsonl'));
  }

  /** Opens the outbox in `dir`, replaying its journal; `deliver: false` only reads (CLI). */
  static async open(
    dir: string,
    settings: OutboxSettings,
    deps: Partial<Outbox['deps']> & { deliver?: boolean } = {},
  ): Promise<Outbox> {
    const outbox = new Outbox(dir, settings, {
      transport: deps.transport ?? httpTransport(settings.concurrency),
      log: deps.log ?? (() => undefined),
      now: deps.now ?? Date.now,
      resolve: deps.resolve ?? recentLookups(),
    });
    for (const record of outbox.journal.read()) outbox.apply(record);
    // Compact at start: only what is still pending or dead.
    await outbox.journal.rewrite(() => outbox.liveRecords());
    outbox.delivering = deps.deliver !== false;
    outbox.schedule();
    return outbox;
  }

  private apply(record: Record): void {
    switch (record.op) {
      case 'add':
        if (!this.dead.has(record.delivery.id)) {
          const known = this.pending.has(record.delivery.id);
          const delivery: Pending = { ...record.delivery, nextAt: 0 };
          this.pending.set(record.delivery.id, delivery);
          if (!known) this.ready(delivery);
        }
        break;
      case 'done':
        this.pending.delete(record.id);
        break;
      case 'attempt': {
        const delivery = this.pending.get(record.id);
        if (delivery) delivery.attempts = record.attempts;
        break;
      }
      case 'dead': {
        const delivery = this.pending.get(record.id);
        if (delivery) {
          this.pending.delete(record.id);
          this.dead.set(record.id, {
            delivery: stored(delivery),
            status: record.status,
            message: record.message,
            at: record.at,
          });
        }
        break;
      }
      case 'forget':
        this.dead.delete(record.id);
        break;
    }
  }

  private liveRecords(): Record[] {
    const records: Record[] = [];
    for (const pending of this.pending.values()) records.push({ op: 'add', delivery: stored(pending) });
    for (const letter of this.dead.values()) {
      records.push({ op: 'add', delivery: letter.delivery });
      records.push({
        op: 'dead',
        id: letter.delivery.id,
        status: letter.status,
        message: letter.message,
        at: letter.at,
      });
    }
    return records;
  }

  /**
   * Sets how each tool's requests may be batched (the tools runtime, from the manifests; asked when
   * a delivery is taken from its queue, so a configuration change applies to what is still queued).
   */
  setBatching(rules: (site: string, tool: string) => BatchRule | undefined): void {
    this.batching = rules;
  }

  /** Deliveries waiting to be sent (or retried). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Dead letters, oldest first. */
  deadLetters(): DeadLetter[] {
    return [...this.dead.values()].sort((a, b) => a.at - b.at);
  }

  /**
   * Makes deliveries durable; resolves after the fsync. A delivery id already pending is kept
   * once. The outbox takes the delivery objects over: the caller must not change or reuse them.
   */
  async enqueue(deliveries: readonly Delivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    if (this.closed) throw new Error('outbox closed');
    // Memory first, so a compaction running meanwhile keeps them; undone if the write fails.
    const added: Pending[] = [];
    const records: Record[] = [];
    for (const delivery of deliveries) {
      if (this.pending.has(delivery.id)) continue;
      this.pending.set(delivery.id, delivery as Pending);
      added.push(delivery as Pending);
      records.push({ op: 'add', delivery });
    }
    // The records' text is taken now; only then do the objects get their in-memory fields.
    const written = this.journal.append(...records);
    for (const delivery of added) delivery.nextAt = 0;
    try {
      await written;
    } catch (error) {
      for (const delivery of added) this.pending.delete(delivery.id);
      throw error;
    }
    for (const delivery of added) this.ready(delivery);
    this.schedule();
  }

  /** Sends dead letters again (all, or those of `tool`, or the given ids); returns how many. */
  async replay(filter: { tool?: string; ids?: readonly string[] } = {}): Promise<number> {
    const chosen = this.deadLetters().filter(
      (l) =>
        (!filter.tool || l.delivery.tool === filter.tool) &&
        (!filter.ids || filter.ids.includes(l.delivery.id)),
    );
    const records: Record[] = [];
    for (const letter of chosen) {
      records.push(
        { op: 'forget', id: letter.delivery.id },
        { op: 'add', delivery: { ...letter.delivery, attempts: 0 } },
      );
    }
    if (records.length === 0) return 0;
    for (const record of records) this.apply(record);
    await this.journal.append(...records);
    this.schedule();
    return chosen.length;
  }

  /** Puts a delivery at the end of its tool's queue. */
  private ready(delivery: Pending): void {
    delivery.readyAt = this.deps.now();
    let queue = this.queues.get(delivery.tool);
    if (!queue) this.queues.set(delivery.tool, (queue = []));
    queue.push(delivery.id);
  }

  /** Runs `pump` in the next turn of the event loop (once, however often it is asked). */
  private schedule(): void {
    if (this.closed || !this.delivering || this.pumpQueued) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  /** Runs `pump` at `at`: one timer, for the earliest time asked (a later one is replaced). */
  private wake(at: number): void {
    if (this.closed || at >= this.wakeAt) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = null;
        this.wakeAt = Infinity;
        this.pump();
      },
      Math.max(0, at - this.deps.now()),
    );
    this.wakeTimer.unref();
  }

  /**
   * Starts sends up to each tool's concurrency, tools with an open circuit breaker waiting. A tool
   * whose requests may be batched waits up to `batchWindowMs` for its queue to fill a batch.
   */
  private pump(): void {
    if (this.closed) return;
    const now = this.deps.now();
    for (const [tool, queue] of this.queues) {
      const breaker = this.breakers.get(tool);
      if (breaker && breaker.openUntil > now) {
        this.wake(breaker.openUntil);
        continue;
      }
      while (queue.length > 0 && (this.inFlight.get(tool) ?? 0) < this.settings.concurrency) {
        const head = this.pending.get(queue[0]!);
        if (!head || this.sending.has(head.id)) {
          queue.shift();
          continue;
        }
        const rule = head.solo ? undefined : this.batching(head.site, head.tool);
        // Only a head that can travel in a batch waits for one (e.g. not GA4's /g/collect hits).
        if (rule && queue.length < rule.max && this.part(head, rule)) {
          const due = (head.readyAt ?? 0) + this.settings.batchWindowMs;
          if (due > now) {
            this.wake(due);
            break;
          }
        }
        queue.shift();
        this.sending.add(head.id);
        const group = rule ? this.gather(queue, head, rule) : [head];
        this.inFlight.set(tool, (this.inFlight.get(tool) ?? 0) + 1);
        const run = this.send(group, rule).finally(() => {
          this.inFlight.set(tool, (this.inFlight.get(tool) ?? 1) - 1);
          this.running.delete(run);
          for (const member of group) {
            this.sending.delete(member.id);
            const still = this.pending.get(member.id);
            if (!still) continue;
            // A retry (or a member of a refused batch, sent alone now): back in the queue when due.
            const timer = setTimeout(
              () => {
                if (this.pending.has(member.id)) this.ready(still);
                this.schedule();
              },
              Math.max(0, still.nextAt - this.deps.now()),
            );
            timer.unref();
          }
          this.schedule();
        });
        this.running.add(run);
      }
    }
  }

  /**
   * The deliveries that travel with `head`: those of its tool's queue (a bounded look-ahead) with
   * the same batch key, up to the rule's count and bytes; taken out of the queue and marked as
   * being sent.
   */
  private gather(queue: string[], head: Pending, rule: BatchRule): Pending[] {
    const first = this.part(head, rule);
    if (!first) return [head];
    const group = [head];
    let bytes = first.bytes;
    const lookAhead = Math.min(queue.length, rule.max * 8);
    let kept = 0;
    for (let i = 0; i < queue.length; i++) {
      const id = queue[i]!;
      if (i < lookAhead && group.length < rule.max) {
        const candidate = this.pending.get(id);
        if (candidate && !candidate.solo && !this.sending.has(id)) {
          const part = this.part(candidate, rule);
          if (part && part.key === first.key && bytes + part.bytes <= rule.maxBytes) {
            this.sending.add(id);
            group.push(candidate);
            bytes += part.bytes;
            continue;
          }
        }
      }
      queue[kept++] = id;
    }
    queue.length = kept;
    return group;
  }

  /** A delivery's batch key and items, or null when its body cannot be batched. */
  private part(delivery: Pending, rule: BatchRule): BatchPart | null {
    // Computed once per rule (a configuration change brings new rules).
    if (delivery.partRule !== rule) {
      delivery.part = batchPart(delivery, rule);
      delivery.partRule = rule;
    }
    return delivery.part ?? null;
  }

  /** The request a group travels as: one delivery's own, or the batch; sealed by the rule. */
  private requestOf(group: readonly Pending[], rule: BatchRule | undefined): OutgoingRequest {
    const first = group[0]!;
    let request = first.request;
    if (group.length > 1 && rule) {
      const body = { ...first.part!.body };
      body[rule.field] = group.flatMap((member) => member.part!.items);
      request = { ...request, body: JSON.stringify(body) };
    }
    if (!rule?.seal) return request;
    const sealed = rule.seal(request);
    const headers = { ...request.headers };
    for (const name of rule.vary) {
      const value = sealed.headers[name];
      if (value === undefined) delete headers[name];
      else headers[name] = value;
    }
    return { ...request, headers };
  }

  private async send(group: Pending[], rule: BatchRule | undefined): Promise<void> {
    const first = group[0]!;
    let request: OutgoingRequest;
    try {
      request = this.requestOf(group, rule);
    } catch (error) {
      // A seal that throws: the members go alone, as their components wrote them.
      for (const member of group) member.solo = true;
      this.deps.log({
        ...egressBase(group, first.request),
        ts: this.deps.now(),
        outcome: 'retry',
        status: null,
        reason: `batch not sealed (${error instanceof Error ? error.message : String(error)}): sent one by one`,
      });
      return;
    }
    const url = new URL(request.url);
    const base = egressBase(group, request, url);
    const blocked = await checkAddress(request.url, first.operatorHosts, this.deps.resolve);
    if (blocked) {
      this.deps.log({ ...base, ts: this.deps.now(), outcome: 'blocked', status: null, reason: blocked });
      await this.bury(group, null, blocked);
      return;
    }
    let status: number | null = null;
    let message = '';
    try {
      const answer = await this.deps.transport(
        request,
        this.settings.timeoutMs,
        first.operatorHosts.includes(hostOf(url)),
      );
      status = answer.status;
      message = first.quoteAnswers ? answerExcerpt(answer.body) : '';
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EPRIVATE') {
        // Refused when connecting: the name now resolves to a private address.
        const reason = (error as Error).message;
        this.deps.log({ ...base, ts: this.deps.now(), outcome: 'blocked', status: null, reason });
        await this.bury(group, null, reason);
        return;
      }
      message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    const ts = this.deps.now();
    if (status !== null && status >= 200 && status < 300) {
      this.deps.log({ ...base, ts, outcome: 'sent', status, reason: null });
      this.breakers.delete(first.tool);
      for (const member of group) {
        this.pending.delete(member.id);
        this.journal.appendLazy({ op: 'done', id: member.id });
      }
      await this.maybeCompact(group.length);
      return;
    }
    const retryable = status === null || status === 408 || status === 429 || status >= 500;
    if (!retryable) {
      const reason =
        status !== null && status >= 300 && status < 400
          ? `redirect ${status} not followed`
          : message || `HTTP ${status}`;
      if (group.length > 1) {
        // One bad event must not bury the others: each is sent alone, and only a refused one dies.
        this.deps.log({
          ...base,
          ts,
          outcome: 'retry',
          status,
          reason: `batch refused (${reason}); its ${group.length} deliveries are sent one by one`,
        });
        for (const member of group) {
          member.solo = true;
          member.nextAt = 0;
        }
        return;
      }
      this.deps.log({ ...base, ts, outcome: 'dead', status, reason });
      await this.bury(group, status, reason);
      return;
    }
    const breaker = this.breakers.get(first.tool) ?? { failures: 0, openUntil: 0 };
    breaker.failures++;
    if (breaker.failures >= BREAKER_FAILURES) breaker.openUntil = ts + BREAKER_OPEN_MS;
    this.breakers.set(first.tool, breaker);
    const attempts = Math.max(...group.map((member) => member.attempts)) + 1;
    if (attempts >= this.settings.maxAttempts) {
      const reason = `gave up after ${attempts} attempts: ${message || `HTTP ${status}`}`;
      this.deps.log({ ...base, ts, outcome: 'dead', status, reason });
      await this.bury(group, status, reason);
      return;
    }
    this.deps.log({ ...base, ts, outcome: 'retry', status, reason: message || `HTTP ${status}` });
    const nextAt = ts + backoff(attempts, this.settings.baseDelayMs, this.settings.maxDelayMs);
    for (const member of group) {
      member.attempts = attempts;
      member.nextAt = nextAt;
      // Parsed again when it is next sent: during a long outage only the request text is kept.
      member.part = undefined;
      member.partRule = undefined;
      this.journal.appendLazy({ op: 'attempt', id: member.id, attempts });
    }
  }

  private async bury(group: readonly Pending[], status: number | null, message: string): Promise<void> {
    const at = this.deps.now();
    for (const member of group) {
      this.pending.delete(member.id);
      this.dead.set(member.id, { delivery: stored(member), status, message, at });
    }
    await this.journal.append(
      ...group.map((member): Record => ({ op: 'dead', id: member.id, status, message, at })),
    );
  }

  private async maybeCompact(done: number): Promise<void> {
    this.finished += done;
    if (this.finished < 10_000) return;
    this.finished = 0;
    await this.journal.rewrite(() => this.liveRecords());
  }

  /** Resolves when nothing is pending or in flight (tests, shutdown), or after `timeoutMs`. */
  async idle(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.pending.size === 0 && this.running.size === 0) return true;
      await new Promise((r) => setTimeout(r, 10));
    }
    return false;
  }

  /** Stops sending (in-flight requests finish), and closes the journal. Pending deliveries stay journalled. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    await Promise.allSettled([...this.running]);
    await this.journal.close();
  }
}
