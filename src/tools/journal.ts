import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AppendFile, trimTornTail } from '../store/append-file.js';

interface Waiting<T> {
  records: readonly T[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Texts as one UTF-8 buffer, each written into it in turn: neither a buffer per append nor one
 * long string of the whole write (encoding that cost twice as much as encoding each piece).
 */
function encoded(texts: readonly string[]): Buffer {
  let bytes = 0;
  for (const text of texts) bytes += Buffer.byteLength(text);
  const buffer = Buffer.allocUnsafe(bytes);
  let offset = 0;
  for (const text of texts) offset += buffer.write(text, offset);
  return buffer;
}

/** How a journal writes and reads its records (default: one JSON text per line). */
export interface LineCodec<T> {
  encode(record: T): string;
  /**
   * The lines of one write, in pieces of text each ending with a newline (default: `encode` of
   * each record). Lines may refer to lines before them in the same write, never to another's.
   */
  encodeAll?(records: readonly T[]): string[];
  /** The record of a line, or null for a line of the codec's own (read in file order). */
  decode(line: string): T | null;
}

const JSON_LINES: LineCodec<never> = {
  encode: (record) => JSON.stringify(record),
  decode: (line) => JSON.parse(line) as never,
};

/**
 * An append-only JSON-lines file with group commit: every record appended in the same turn is
 * written by one synced write (store/append-file.ts), and `append` resolves only once it is on
 * the disk (a 2xx may follow).
 * `read` returns every whole record (a torn last line, from a crash, is skipped); `rewrite`
 * replaces the file atomically (compaction). A `codec` may write records its own way: one line
 * each, or (`encodeAll`) lines of its own that later lines of the same write refer to.
 */
export class Journal<T> {
  private waiting: Waiting<T>[] = [];
  private lazy: T[] = [];
  private lazyTimer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private scheduled = false;
  private file: AppendFile;

  constructor(
    readonly path: string,
    private readonly codec: LineCodec<T> = JSON_LINES,
  ) {
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
        const record = this.codec.decode(line);
        if (record !== null) records.push(record);
      } catch {
        // a torn last line after a crash: its append never resolved
      }
    }
    return records;
  }

  /**
   * Resolves once the records are on disk. They are encoded when written (in this turn or the
   * next, with every record appended meanwhile): the caller leaves them as they are until then.
   */
  append(...records: T[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ records, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        this.chain = this.chain.then(() => this.flush());
      }
    });
  }

  /**
   * Appends records whose loss in a crash is harmless (e.g. "delivered" marks: the delivery is
   * then sent again and deduplicated by the vendor): written with the next durable append, or
   * within 200 ms — at most one write of their own each 200 ms.
   */
  appendLazy(...records: T[]): void {
    for (const record of records) this.lazy.push(record);
    if (!this.lazyTimer) {
      this.lazyTimer = setTimeout(() => {
        this.lazyTimer = null;
        if (!this.scheduled) {
          this.scheduled = true;
          this.chain = this.chain.then(() => this.flush());
        }
      }, 200);
      this.lazyTimer.unref();
    }
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.waiting;
    this.waiting = [];
    const lazy = this.lazy;
    this.lazy = [];
    if (batch.length === 0 && lazy.length === 0) return;
    try {
      // Whole or not at all (a short write on a full disk is completed or cut off): a failed
      // append never leaves half a record for the next one to follow.
      // Encoded now, all of them in one go (a codec writes what they share once: `encodeAll`).
      const records = lazy;
      for (const w of batch) for (const record of w.records) records.push(record);
      await this.file.append(encoded(this.lines(records)));
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
      // In the thread pool: the write and the sync do not hold the event loop (a gateway with
      // tools compacts about once a second under load).
      const file = await open(temporary, 'w');
      try {
        // In pieces of about 1 MiB: a journal holding a long backlog is never one string.
        let piece: string[] = [];
        let size = 0;
        const write = async () => {
          const data = encoded(piece);
          piece = [];
          size = 0;
          for (let offset = 0; offset < data.length;) {
            const { bytesWritten } = await file.write(data, offset, data.length - offset);
            if (bytesWritten <= 0)
              throw Object.assign(new Error(`no byte written to ${temporary}`), { code: 'ENOSPC' });
            offset += bytesWritten;
          }
        };
        // Records in runs of 256, each run encoded as one append is (its lines self-contained).
        let batch: T[] = [];
        const encodeRun = async () => {
          for (const text of this.lines(batch)) {
            piece.push(text);
            size += text.length;
          }
          batch = [];
          if (size >= 1 << 20) await write();
        };
        for (const record of records()) {
          batch.push(record);
          if (batch.length >= 256) await encodeRun();
        }
        if (batch.length > 0) await encodeRun();
        await write();
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, this.path);
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Records as lines (a newline after each), as one write holds them. */
  private lines(records: readonly T[]): string[] {
    if (this.codec.encodeAll) return this.codec.encodeAll(records);
    return records.map((record) => `${this.codec.encode(record)}\n`);
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
