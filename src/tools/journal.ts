import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppendFile, trimTornTail } from '../store/append-file.js';

interface Waiting {
  text: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * An append-only JSON-lines file with group commit: every record appended in the same turn is
 * written and fsynced once, and `append` resolves only after the fsync (a 2xx may follow).
 * `read` returns every whole record (a torn last line, from a crash, is skipped); `rewrite`
 * replaces the file atomically (compaction).
 */
export class Journal<T> {
  private waiting: Waiting[] = [];
  private lazy: string[] = [];
  private lazyTimer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private scheduled = false;
  private file: AppendFile;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    // A torn last line (a crash mid-write) is cut off before anything is appended after it.
    if (existsSync(path)) trimTornTail(path);
    this.file = new AppendFile(path);
  }

  /** Every whole record in the file. */
  read(): T[] {
    if (!existsSync(this.path)) return [];
    const records: T[] = [];
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        records.push(JSON.parse(line) as T);
      } catch {
        // a torn last line after a crash: its append never resolved
      }
    }
    return records;
  }

  /** Resolves once the records are on disk (fsynced). */
  append(...records: T[]): Promise<void> {
    const text = records.map((r) => `${JSON.stringify(r)}\n`).join('');
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ text, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        this.chain = this.chain.then(() => this.flush());
      }
    });
  }

  /**
   * Appends records whose loss in a crash is harmless (e.g. "delivered" marks: the delivery is
   * then sent again and deduplicated by the vendor): written with the next durable append, or
   * within 200 ms, without an fsync of their own.
   */
  appendLazy(...records: T[]): void {
    for (const r of records) this.lazy.push(`${JSON.stringify(r)}\n`);
    if (!this.lazyTimer) {
      this.lazyTimer = setTimeout(() => {
        this.lazyTimer = null;
        if (!this.scheduled) {
          this.scheduled = true;
          this.chain = this.chain.then(() => this.flush(false));
        }
      }, 200);
      this.lazyTimer.unref();
    }
  }

  private async flush(sync = true): Promise<void> {
    this.scheduled = false;
    const batch = this.waiting;
    this.waiting = [];
    const lazy = this.lazy;
    this.lazy = [];
    if (batch.length === 0 && lazy.length === 0) return;
    try {
      // Whole or not at all (a short write on a full disk is completed or cut off): a failed
      // append never leaves half a record for the next one to follow.
      await this.file.append(
        Buffer.from(lazy.join('') + batch.map((w) => w.text).join('')),
        sync || batch.length > 0,
      );
      for (const w of batch) w.resolve();
    } catch (error) {
      // Lazy records are harmless to lose (see appendLazy); the durable ones are refused.
      for (const w of batch) w.reject(error);
    }
  }

  /**
   * Replaces the whole file with `records()`, atomically (write, fsync, rename), after every
   * append queued before it. The caller's in-memory state must already include what it appends.
   */
  rewrite(records: () => readonly T[]): Promise<void> {
    const run = this.chain.then(async () => {
      await this.flush();
      await this.file.close();
      const temporary = `${this.path}.tmp`;
      writeFileSync(
        temporary,
        records()
          .map((r) => `${JSON.stringify(r)}\n`)
          .join(''),
        { flush: true },
      );
      renameSync(temporary, this.path);
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Waits for pending appends and closes the file. */
  async close(): Promise<void> {
    if (this.lazyTimer) clearTimeout(this.lazyTimer);
    this.lazyTimer = null;
    const run = this.chain.then(async () => {
      await this.flush();
      await this.file.close();
    });
    this.chain = run.catch(() => undefined);
    await run;
  }
}
