import type { EgressSink } from '../store/store.js';
import type { EgressRecord } from './outbox.js';

/**
 * Buffers egress-log records and writes them to the store every `flushMs` (and on close). If the
 * store is away the records are kept (bounded: the oldest are dropped past `maxBuffered`, and
 * counted; the buffer may hold an eighth more before they are) — the deliveries themselves are in
 * the outbox either way.
 */
export class EgressLog {
  private buffer: EgressRecord[] = [];
  private timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  /** Records dropped because the store stayed away too long. */
  lost = 0;

  constructor(
    private readonly store: EgressSink,
    private readonly flushMs = 500,
    private readonly maxBuffered = 100_000,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {
    this.timer = setInterval(() => void this.flush(), flushMs);
    this.timer.unref();
  }

  /**
   * Adds one record (written at the next flush). Past `maxBuffered` the oldest go, an eighth of
   * the bound at a time: an array's `shift` per record copies the whole buffer once it is long.
   */
  add = (record: EgressRecord): void => {
    this.buffer.push(record);
    if (this.buffer.length > this.maxBuffered + Math.ceil(this.maxBuffered / 8)) this.trim();
  };

  /** Drops the oldest records beyond `maxBuffered`, counted in `lost`. */
  private trim(): void {
    const over = this.buffer.length - this.maxBuffered;
    if (over <= 0) return;
    this.buffer.splice(0, over);
    this.lost += over;
  }

  /** Writes what is buffered. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.buffer.length === 0) return;
      const batch = this.buffer;
      this.buffer = [];
      try {
        await this.store.appendEgress(batch);
      } catch (error) {
        this.buffer = batch.concat(this.buffer);
        this.trim();
        this.onError(error);
      }
    });
    return this.flushing;
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
