import type { Worker } from 'node:worker_threads';
import { moduleWorker } from '../module-worker.js';
import type { SiteConfig } from '../config/schema.js';
import { BaliseError, errorLine } from '../errors.js';
import type { RawEvent } from '../pipeline/event.js';
import type { SaltSource } from '../privacy/visitor-hash.js';
import type { DurableWriter } from '../store/writer.js';
import type { FromRecorder, RecordedBatch, RecordStart, ToRecorder } from './record-protocol.js';

/** How often proxied requests are written, at the most (ms), and how many at once at the most. */
const FLUSH_MS = 250;
const BATCH = 500;
/** Requests handed to the recording thread and not yet written, at the most; beyond, dropped. */
const MAX_IN_FLIGHT = 20_000;
/** After the recording thread failed, requests are dropped this long before it is started again. */
const RESTART_MS = 5_000;

/** What the recorder needs of the gateway. */
export interface RecorderDeps {
  writer: DurableWriter;
  /** The store's day salts, for the visitor hashes made in the recording thread. */
  salts: SaltSource;
  start: RecordStart;
  /** The gateway's counters: events dropped by reason, DLP findings by site and kind. */
  counters: { dropped: Record<string, number>; findings: Record<string, Record<string, number>> };
  logError: (line: string) => void;
}

/** The recording thread: record-worker.js beside this module, or its TypeScript through tsx (tests). */
function newThread(start: RecordStart): Worker {
  return moduleWorker(import.meta.url, './record-worker.js', './record-worker.ts', start);
}

/**
 * Makes every proxied request an event of type `request` — through the same privacy pipeline as
 * collect (IP and User-Agent read, never kept; the query stripped) — and writes them in batches.
 * The pipeline runs in a thread of its own (record-worker.ts), which hands back spool lines: the
 * thread that serves the requests only queues them. Under overload (the writer's backlog full,
 * the disk failing, the recording thread behind or failed) they are counted as dropped, never
 * held without bound: no one was told they were kept.
 */
export class RequestRecorder {
  private events: [SiteConfig, RawEvent][] = [];
  // Sites by the number the recording thread knows them by (a new thread learns them again).
  private siteIds = new WeakMap<SiteConfig, number>();
  private nextSite = 0;
  private seq = 0;
  /** Requests sent to the recording thread and not yet written (or dropped). */
  private inFlight = 0;
  private readonly sent = new Map<number, { count: number; done: () => void }>();
  private thread: Worker | null = null;
  private failedAt = -Infinity;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly deps: RecorderDeps) {}

  /** Records one proxied request (queued; written within FLUSH_MS). */
  record(site: SiteConfig, raw: RawEvent): void {
    if (this.closed) {
      // A request that ended while the gateway stopped: its writer is closing.
      this.drop('proxy_unrecorded', 1);
      return;
    }
    if (this.inFlight + this.events.length >= MAX_IN_FLIGHT) {
      this.drop('proxy_overloaded', 1);
      return;
    }
    this.events.push([site, raw]);
    if (this.events.length >= BATCH) this.send();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.send(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Writes what waits; resolves once everything recorded so far is written (or dropped). */
  flush(): Promise<void> {
    this.send();
    return this.writing;
  }

  /**
   * Writes what waits, then stops the recording thread; a request that ends from now on is
   * counted as dropped (its writer is closing).
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    const thread = this.thread;
    this.thread = null;
    await thread?.terminate();
  }

  private send(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const queued = this.events;
    if (queued.length === 0) return;
    this.events = [];
    const thread = this.ensureThread();
    if (!thread) {
      this.drop('proxy_unrecorded', queued.length);
      return;
    }
    // Each site goes once to a thread, with the first batch that names it.
    const sites: [number, SiteConfig][] = [];
    const events = queued.map(([site, raw]): [number, RawEvent] => {
      let id = this.siteIds.get(site);
      if (id === undefined) {
        this.siteIds.set(site, (id = this.nextSite++));
        sites.push([id, site]);
      }
      return [id, raw];
    });
    const message: ToRecorder = { kind: 'batch', seq: this.seq++, sites, events };
    const count = events.length;
    this.inFlight += count;
    const done = new Promise<void>((resolve) =>
      this.sent.set(message.seq, {
        count,
        done: () => {
          this.inFlight -= count;
          resolve();
        },
      }),
    );
    this.writing = Promise.all([this.writing, done]).then(() => undefined);
    try {
      thread.postMessage(message);
    } catch (error) {
      // Not one to fail (a site's configuration is plain data); were it to, the requests are
      // dropped and said, never thrown at the request that happened to fill the batch.
      const entry = this.sent.get(message.seq)!;
      this.sent.delete(message.seq);
      this.deps.logError(`proxy: ${count} request events not recorded: ${errorLine(error)}`);
      this.drop('proxy_unrecorded', count);
      // The sites of this batch may not have reached the thread: they go again with the next.
      this.siteIds = new WeakMap();
      entry.done();
    }
  }

  private ensureThread(): Worker | null {
    if (this.thread) return this.thread;
    if (Date.now() - this.failedAt < RESTART_MS) return null;
    const thread = newThread(this.deps.start);
    thread.unref();
    thread.on('message', (message: FromRecorder) => this.answer(thread, message));
    thread.on('error', (error) => this.failed(thread, error.message));
    thread.on('exit', (code) => this.failed(thread, `exited with code ${code}`));
    this.siteIds = new WeakMap();
    return (this.thread = thread);
  }

  private answer(thread: Worker, message: FromRecorder): void {
    if (message.kind === 'salt') {
      const reply = (answer: ToRecorder) => thread.postMessage(answer);
      this.deps.salts.ensureSalt(message.day, message.keepFrom).then(
        (salt) => reply({ kind: 'salt', day: message.day, salt: new Uint8Array(salt) }),
        (error: unknown) =>
          reply({
            kind: 'salt',
            day: message.day,
            error: errorLine(error),
          }),
      );
      return;
    }
    const entry = this.sent.get(message.seq);
    if (!entry) return;
    this.sent.delete(message.seq);
    if (message.kind === 'failed') {
      this.deps.logError(`proxy: ${entry.count} request events not recorded: ${message.error}`);
      this.drop('proxy_unrecorded', entry.count);
      entry.done();
      return;
    }
    this.merge(message);
    void this.write(message).finally(entry.done);
  }

  private write(batch: RecordedBatch): Promise<void> {
    if (batch.ts.length === 0) return Promise.resolve();
    return this.deps.writer.write({ text: batch.text, ts: batch.ts }).catch((error: unknown) => {
      if (error instanceof BaliseError) this.drop('proxy_overloaded', batch.ts.length);
      else this.deps.logError(`proxy: ${batch.ts.length} request events not written: ${errorLine(error)}`);
    });
  }

  private merge(batch: RecordedBatch): void {
    for (const [reason, n] of Object.entries(batch.dropped)) this.drop(reason, n);
    const { findings } = this.deps.counters;
    for (const [site, kinds] of Object.entries(batch.findings)) {
      const perSite = (findings[site] ??= {});
      for (const [kind, n] of Object.entries(kinds)) perSite[kind] = (perSite[kind] ?? 0) + n;
    }
  }

  /** The recording thread failed or ended: what it held is dropped; a new one starts later. */
  private failed(thread: Worker, reason: string): void {
    if (this.thread !== thread) return;
    this.thread = null;
    this.failedAt = Date.now();
    let lost = 0;
    for (const entry of this.sent.values()) {
      lost += entry.count;
      this.drop('proxy_unrecorded', entry.count);
      entry.done();
    }
    this.sent.clear();
    this.deps.logError(
      `proxy: the request recording thread failed (${reason}); ${lost} request events not recorded`,
    );
  }

  private drop(reason: string, count: number): void {
    const { dropped } = this.deps.counters;
    dropped[reason] = (dropped[reason] ?? 0) + count;
  }
}
