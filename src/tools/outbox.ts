import { join } from 'node:path';
import type { EgressRecord } from '../store/egress.js';
import type { Config } from '../config/schema.js';
import { attempt, type AttemptDeps } from './attempt.js';
import { gather, partOf } from './batch.js';
import { Breakers } from './breakers.js';
import {
  backoff,
  PARSED_KEPT,
  stored,
  verdictOf,
  type BatchRule,
  type DeadLetter,
  type Delivery,
  type Pending,
} from './delivery.js';
import { recentLookups } from './egress.js';
import { egressRecord } from './egress-entry.js';
import { IdQueue } from './id-queue.js';
import type { Journal } from './journal.js';
import { Ledger, type OutboxRecord } from './ledger.js';
import { outboxJournal } from './outbox-line.js';
import { SendWindows } from './send-window.js';
import { httpTransport, type Transport } from './transport.js';

export type { EgressRecord };
export type { BatchRule, DeadLetter, Delivery } from './delivery.js';
export { ANSWER_EXCERPT_CHARS, answerExcerpt, fieldNames } from './egress-entry.js';

/** Settings of the outbox (config `outbox`). */
export type OutboxSettings = Config['outbox'];

/**
 * The durable outbox: deliveries are journalled (fsynced) before the browser gets its answer,
 * sent within a per-tool window of requests in flight (send-window.ts), retried with exponential backoff and jitter on
 * timeouts, network errors, 408, 429 and 5xx, and turned into dead letters on any other 4xx
 * (with the vendor's message) or after `maxAttempts`. A tool failing repeatedly opens its circuit
 * breaker for 30 s. After a crash the journal is replayed: every delivery not marked done is
 * sent again (vendors deduplicate by event id).
 */
export class Outbox {
  private readonly journal: Journal<OutboxRecord>;
  private readonly ledger = new Ledger();
  private readonly pending = this.ledger.pending;
  private readonly dead = this.ledger.dead;
  /** Ids ready to send, per tool, oldest first (a retry rejoins when its delay is over). */
  private readonly queues = new Map<string, IdQueue>();
  private readonly sending = new Set<string>();
  private pumpQueued = false;
  private readonly breakers = new Breakers();
  private running = new Set<Promise<void>>();
  private closed = false;
  private finished = 0;
  private batching: (site: string, tool: string) => BatchRule | undefined = () => undefined;
  private wakeAt = Infinity;
  private wakeTimer: NodeJS.Timeout | null = null;
  /** What each attempt needs (made once: a copy per attempt showed in the profile). */
  private readonly attemptDeps: AttemptDeps;
  /** Each tool's requests in flight and how many it may have. */
  readonly windows: SendWindows;
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
    this.journal = outboxJournal(join(dir, 'journal.jsonl'));
    this.attemptDeps = { ...deps, timeoutMs: settings.timeoutMs };
    this.windows = new SendWindows(settings.concurrency, settings.maxConcurrency);
  }

  /** Opens the outbox in `dir`, replaying its journal; `deliver: false` only reads (CLI). */
  static async open(
    dir: string,
    settings: OutboxSettings,
    deps: Partial<Outbox['deps']> & { deliver?: boolean } = {},
  ): Promise<Outbox> {
    const outbox = new Outbox(dir, settings, {
      transport: deps.transport ?? httpTransport(settings.maxConcurrency),
      log: deps.log ?? (() => undefined),
      now: deps.now ?? Date.now,
      resolve: deps.resolve ?? recentLookups(),
    });
    for (const record of outbox.journal.read())
      outbox.ledger.apply(record, (delivery) => outbox.ready(delivery));
    // Compact at start: only what is still pending or dead.
    await outbox.journal.rewrite(() => outbox.ledger.liveRecords());
    outbox.delivering = deps.deliver !== false;
    outbox.schedule();
    return outbox;
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

  /** When the oldest delivery waiting was made (ms since the epoch), or null with none waiting. */
  get oldestPendingAt(): number | null {
    return this.ledger.oldestPendingAt();
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
    const records: OutboxRecord[] = [];
    // A backlog keeps only its requests' text: their parsed bodies would weigh more than they save.
    const keepParsed = this.pending.size < PARSED_KEPT;
    for (const delivery of deliveries) {
      if (this.pending.has(delivery.id)) continue;
      if (!keepParsed) (delivery as Pending).json = undefined;
      this.pending.set(delivery.id, delivery as Pending);
      added.push(delivery as Pending);
      records.push({ op: 'add', delivery });
    }
    // Written as they are now (encoded with the group's write; in-memory fields are not written).
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
    const records = chosen.flatMap((letter): OutboxRecord[] => [
      { op: 'forget', id: letter.delivery.id },
      { op: 'add', delivery: { ...letter.delivery, attempts: 0 } },
    ]);
    if (records.length === 0) return 0;
    for (const record of records) this.ledger.apply(record, (delivery) => this.ready(delivery));
    await this.journal.append(...records);
    this.schedule();
    return chosen.length;
  }

  /** Puts a delivery at the end of its tool's queue. */
  private ready(delivery: Pending): void {
    delivery.readyAt = this.deps.now();
    let queue = this.queues.get(delivery.tool);
    if (!queue) this.queues.set(delivery.tool, (queue = new IdQueue()));
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
    this.wakeTimer = setTimeout(() => this.woken(), Math.max(0, at - this.deps.now())).unref();
  }

  /** A retry whose delay is over: back in its tool's queue, unless it was settled meanwhile. */
  private due(delivery: Pending): void {
    if (this.pending.has(delivery.id)) this.ready(delivery);
    this.schedule();
  }

  private woken(): void {
    [this.wakeTimer, this.wakeAt] = [null, Infinity];
    this.pump();
  }

  /**
   * Starts sends up to each tool's window, tools with an open circuit breaker waiting. A tool
   * whose requests may be batched waits up to `batchWindowMs` for its queue to fill a batch.
   */
  private pump(): void {
    if (this.closed) return;
    const now = this.deps.now();
    for (const [tool, queue] of this.queues) {
      const openUntil = this.breakers.openUntil(tool, now);
      if (openUntil > 0) {
        this.wake(openUntil);
        continue;
      }
      while (queue.length > 0 && this.windows.open(tool)) {
        const head = this.pending.get(queue.at(0)!);
        if (!head || this.sending.has(head.id)) {
          queue.shift();
          continue;
        }
        const found = this.batching(head.site, head.tool);
        const rule = head.solo ? undefined : found;
        // Only a head that can travel in a batch waits for one (e.g. not GA4's /g/collect hits).
        if (rule && queue.length < rule.max && partOf(head, rule)) {
          const due = (head.readyAt ?? 0) + this.settings.batchWindowMs;
          if (due > now) {
            this.wake(due);
            break;
          }
        }
        queue.shift();
        this.sending.add(head.id);
        const group = rule ? gather(queue, head, rule, this.pending, this.sending) : [head];
        this.windows.started(tool);
        // Sealed by its tool's rule, unless its component signed it and it now goes alone.
        const sealing = head.solo && !head.sealAtSend ? undefined : found;
        const run = this.send(group, rule, sealing).finally(() => {
          this.windows.ended(tool);
          this.running.delete(run);
          for (const member of group) {
            this.sending.delete(member.id);
            const still = this.pending.get(member.id);
            if (!still) continue;
            // A retry (or a member of a refused batch, sent alone now): back in the queue when due.
            setTimeout(() => this.due(still), Math.max(0, still.nextAt - this.deps.now())).unref();
          }
          this.schedule();
        });
        this.running.add(run);
      }
    }
  }

  private async send(
    group: Pending[],
    rule: BatchRule | undefined,
    sealing: BatchRule | undefined,
  ): Promise<void> {
    const first = group[0]!;
    const tried = await attempt(group, rule, sealing, this.attemptDeps);
    for (const member of group) member.json = undefined;
    if (tried.kind === 'unsealed') return;
    if (tried.kind === 'blocked') return this.bury(group, null, tried.reason);
    const { base, status, message } = tried;
    const ts = this.deps.now();
    const verdict = verdictOf(group, status, message, this.settings.maxAttempts);
    if (verdict.outcome === 'sent') {
      this.deps.log(egressRecord(base, ts, 'sent', status, null));
      this.breakers.succeeded(first.tool);
      this.windows.answered(first.tool, (this.queues.get(first.tool)?.length ?? 0) > 0);
      for (const member of group) this.pending.delete(member.id);
      this.journal.appendLazy(...group.map((member): OutboxRecord => ({ op: 'done', id: member.id })));
      await this.maybeCompact(group.length);
      return;
    }
    if (verdict.outcome === 'retry' || (verdict.outcome === 'dead' && verdict.retryable)) {
      this.breakers.failed(first.tool, ts);
      this.windows.failed(first.tool);
    }
    const { reason } = verdict;
    this.deps.log(
      egressRecord(base, ts, verdict.outcome === 'split' ? 'retry' : verdict.outcome, status, reason),
    );
    if (verdict.outcome === 'dead') return this.bury(group, status, reason);
    if (verdict.outcome === 'split') {
      for (const member of group) [member.solo, member.nextAt] = [true, 0];
      return;
    }
    const { attempts } = verdict;
    const nextAt = ts + backoff(attempts, this.settings.baseDelayMs, this.settings.maxDelayMs);
    for (const member of group) {
      member.attempts = attempts;
      member.nextAt = nextAt;
      // Parsed again when it is next sent: during a long outage only the request text is kept.
      member.part = undefined;
      member.partRule = undefined;
    }
    this.journal.appendLazy(
      ...group.map((member): OutboxRecord => ({ op: 'attempt', id: member.id, attempts })),
    );
  }

  private async bury(group: readonly Pending[], status: number | null, message: string): Promise<void> {
    const at = this.deps.now();
    for (const member of group) {
      this.pending.delete(member.id);
      this.dead.set(member.id, { delivery: stored(member), status, message, at });
    }
    await this.journal.append(
      ...group.map((member): OutboxRecord => ({ op: 'dead', id: member.id, status, message, at })),
    );
  }

  /**
   * Rewrites the journal once 10,000 deliveries are done and at least as many as are still
   * pending: a backlog (a vendor down, then back) is not written out again every 10,000.
   */
  private async maybeCompact(done: number): Promise<void> {
    this.finished += done;
    if (this.finished < Math.max(10_000, this.pending.size)) return;
    this.finished = 0;
    await this.journal.rewrite(() => this.ledger.liveRecords());
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
