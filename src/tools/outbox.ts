import { join } from 'node:path';
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

type Record =
  | { op: 'add'; delivery: Delivery }
  | { op: 'done'; id: string }
  | { op: 'attempt'; id: string; attempts: number }
  | { op: 'dead'; id: string; status: number | null; message: string; at: number }
  | { op: 'forget'; id: string };

/** One line of the egress log: what left (or was stopped), never the body itself. */
export interface EgressRecord {
  ts: number;
  site: string;
  tool: string;
  host: string;
  path: string;
  bytes: number;
  sha256: string;
  policy: string;
  outcome: 'sent' | 'retry' | 'dead' | 'blocked';
  status: number | null;
  reason: string | null;
  deliveryId: string;
}

/** Settings of the outbox (config `outbox`). */
export type OutboxSettings = Config['outbox'];

const BREAKER_FAILURES = 5;
const BREAKER_OPEN_MS = 30_000;

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
  private readonly pending = new Map<string, Delivery & { nextAt: number }>();
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
    if (deps.deliver !== false) outbox.schedule(0);
    return outbox;
  }

  private apply(record: Record): void {
    switch (record.op) {
      case 'add':
        if (!this.dead.has(record.delivery.id)) {
          if (!this.pending.has(record.delivery.id)) this.ready(record.delivery);
          this.pending.set(record.delivery.id, { ...record.delivery, nextAt: 0 });
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
            delivery,
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
    for (const { nextAt: _nextAt, ...delivery } of this.pending.values())
      records.push({ op: 'add', delivery });
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

  /** Deliveries waiting to be sent (or retried). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Dead letters, oldest first. */
  deadLetters(): DeadLetter[] {
    return [...this.dead.values()].sort((a, b) => a.at - b.at);
  }

  /** Makes deliveries durable; resolves after the fsync. A delivery id already pending is kept once. */
  async enqueue(deliveries: readonly Delivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    if (this.closed) throw new Error('outbox closed');
    // Memory first, so a compaction running meanwhile keeps them; undone if the write fails.
    const added = deliveries.filter((d) => !this.pending.has(d.id));
    for (const delivery of added) this.pending.set(delivery.id, { ...delivery, nextAt: 0 });
    try {
      await this.journal.append(...added.map((delivery): Record => ({ op: 'add', delivery })));
    } catch (error) {
      for (const delivery of added) this.pending.delete(delivery.id);
      throw error;
    }
    for (const delivery of added) this.ready(delivery);
    this.schedule(0);
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
    this.schedule(0);
    return chosen.length;
  }

  /** Puts a delivery at the end of its tool's queue. */
  private ready(delivery: Delivery): void {
    let queue = this.queues.get(delivery.tool);
    if (!queue) this.queues.set(delivery.tool, (queue = []));
    queue.push(delivery.id);
  }

  private schedule(delay: number): void {
    if (this.closed) return;
    if (delay <= 0) {
      if (this.pumpQueued) return;
      this.pumpQueued = true;
      setImmediate(() => {
        this.pumpQueued = false;
        this.pump();
      });
      return;
    }
    const timer = setTimeout(() => this.pump(), delay);
    timer.unref();
  }

  /** Starts sends up to each tool's concurrency, tools with an open circuit breaker waiting. */
  private pump(): void {
    if (this.closed) return;
    const now = this.deps.now();
    for (const [tool, queue] of this.queues) {
      const breaker = this.breakers.get(tool);
      if (breaker && breaker.openUntil > now) {
        this.schedule(breaker.openUntil - now);
        continue;
      }
      while (queue.length > 0 && (this.inFlight.get(tool) ?? 0) < this.settings.concurrency) {
        const id = queue.shift()!;
        const delivery = this.pending.get(id);
        if (!delivery || this.sending.has(id)) continue;
        this.sending.add(id);
        this.inFlight.set(tool, (this.inFlight.get(tool) ?? 0) + 1);
        const run = this.send(delivery).finally(() => {
          this.inFlight.set(tool, (this.inFlight.get(tool) ?? 1) - 1);
          this.sending.delete(id);
          this.running.delete(run);
          const still = this.pending.get(id);
          if (still) {
            // A retry: back in the queue when its delay is over.
            const timer = setTimeout(
              () => {
                if (this.pending.has(id)) this.ready(still);
                this.schedule(0);
              },
              Math.max(0, still.nextAt - this.deps.now()),
            );
            timer.unref();
          }
          this.schedule(0);
        });
        this.running.add(run);
      }
    }
  }

  private async send(delivery: Delivery & { nextAt: number }): Promise<void> {
    const { request } = delivery;
    const url = new URL(request.url);
    const base = {
      site: delivery.site,
      tool: delivery.tool,
      host: url.host,
      path: url.pathname,
      bytes: Buffer.byteLength(request.body ?? '') + Buffer.byteLength(request.url),
      sha256: bodyDigest(request.body),
      policy: delivery.policy,
      deliveryId: delivery.id,
    };
    const blocked = await checkAddress(request.url, delivery.operatorHosts, this.deps.resolve);
    if (blocked) {
      this.deps.log({ ...base, ts: this.deps.now(), outcome: 'blocked', status: null, reason: blocked });
      await this.bury(delivery, null, blocked);
      return;
    }
    let status: number | null = null;
    let message = '';
    try {
      const answer = await this.deps.transport(
        request,
        this.settings.timeoutMs,
        delivery.operatorHosts.includes(hostOf(url)),
      );
      status = answer.status;
      message = answer.body.slice(0, 500);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EPRIVATE') {
        // Refused when connecting: the name now resolves to a private address.
        const reason = (error as Error).message;
        this.deps.log({ ...base, ts: this.deps.now(), outcome: 'blocked', status: null, reason });
        await this.bury(delivery, null, reason);
        return;
      }
      message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    const ts = this.deps.now();
    if (status !== null && status >= 200 && status < 300) {
      this.deps.log({ ...base, ts, outcome: 'sent', status, reason: null });
      this.breakers.delete(delivery.tool);
      this.pending.delete(delivery.id);
      this.journal.appendLazy({ op: 'done', id: delivery.id });
      await this.maybeCompact();
      return;
    }
    const retryable = status === null || status === 408 || status === 429 || status >= 500;
    if (!retryable) {
      const reason =
        status !== null && status >= 300 && status < 400
          ? `redirect ${status} not followed`
          : message || `HTTP ${status}`;
      this.deps.log({ ...base, ts, outcome: 'dead', status, reason });
      await this.bury(delivery, status, reason);
      return;
    }
    const breaker = this.breakers.get(delivery.tool) ?? { failures: 0, openUntil: 0 };
    breaker.failures++;
    if (breaker.failures >= BREAKER_FAILURES) breaker.openUntil = ts + BREAKER_OPEN_MS;
    this.breakers.set(delivery.tool, breaker);
    delivery.attempts++;
    if (delivery.attempts >= this.settings.maxAttempts) {
      const reason = `gave up after ${delivery.attempts} attempts: ${message || `HTTP ${status}`}`;
      this.deps.log({ ...base, ts, outcome: 'dead', status, reason });
      await this.bury(delivery, status, reason);
      return;
    }
    this.deps.log({ ...base, ts, outcome: 'retry', status, reason: message || `HTTP ${status}` });
    delivery.nextAt = ts + backoff(delivery.attempts, this.settings.baseDelayMs, this.settings.maxDelayMs);
    this.journal.appendLazy({ op: 'attempt', id: delivery.id, attempts: delivery.attempts });
  }

  private async bury(delivery: Delivery, status: number | null, message: string): Promise<void> {
    const at = this.deps.now();
    this.pending.delete(delivery.id);
    this.dead.set(delivery.id, { delivery, status, message, at });
    await this.journal.append({ op: 'dead', id: delivery.id, status, message, at });
  }

  private async maybeCompact(): Promise<void> {
    if (++this.finished < 10_000) return;
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
    await Promise.allSettled([...this.running]);
    await this.journal.close();
  }
}
