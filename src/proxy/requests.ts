import type { SiteConfig } from '../config/schema.js';
import { BaliseError } from '../errors.js';
import type { PipelineContext, RawEvent } from '../pipeline/event.js';
import { Pipeline } from '../pipeline/runner.js';
import { PIPELINE_STEPS } from '../pipeline/steps.js';
import type { EventRow } from '../store/row.js';
import type { DurableWriter } from '../store/writer.js';

/** How often proxied requests are written, at the most (ms), and how many at once at the most. */
const FLUSH_MS = 250;
const BATCH = 500;

/**
 * Makes every proxied request an event of type `request` — through the same privacy pipeline as
 * collect (IP and User-Agent read, never kept; the query stripped) — and writes them in batches.
 * Under overload (the writer's backlog full, the disk failing) they are counted as dropped, never
 * held without bound: no one was told they were kept.
 */
export class RequestRecorder {
  private readonly steps = new Pipeline(PIPELINE_STEPS);
  private rows: EventRow[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly writer: DurableWriter,
    private readonly context: PipelineContext,
    private readonly dropped: Record<string, number>,
    private readonly logError: (line: string) => void,
  ) {}

  /** Records one proxied request. */
  async record(site: SiteConfig, raw: RawEvent): Promise<void> {
    const pending = this.steps.run(raw, site, this.context);
    const result = pending instanceof Promise ? await pending : pending;
    if (result.kind !== 'ok') {
      this.dropped[result.reason] = (this.dropped[result.reason] ?? 0) + 1;
      return;
    }
    this.rows.push(result.value);
    if (this.rows.length >= BATCH) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Writes what waits; resolves once it is written. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const rows = this.rows;
    this.rows = [];
    if (rows.length > 0) {
      const written = this.writer.write(rows).catch((error: unknown) => {
        if (error instanceof BaliseError)
          this.dropped.proxy_overloaded = (this.dropped.proxy_overloaded ?? 0) + rows.length;
        else
          this.logError(
            `proxy: ${rows.length} request events not written: ${error instanceof Error ? error.message : String(error)}`,
          );
      });
      this.writing = Promise.all([this.writing, written]).then(() => undefined);
    }
    return this.writing;
  }
}
