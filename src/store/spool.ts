import { mkdirSync, readdirSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Mutex } from './mutex.js';
import type { EventRow } from './row.js';
import { RowSpan } from './row-span.js';

/**
 * One spool file (EventRow JSON lines): how many rows were made durable in it, and the time range
 * and hours of every row written to it (a superset when a write failed after reaching the file).
 */
export interface Segment {
  readonly path: string;
  rows: number;
  readonly span: RowSpan;
}

interface Waiting {
  rows: readonly EventRow[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

const SEGMENT = /^segment-(\d{12})\.jsonl$/;

/**
 * Append-only, fsynced spool of accepted rows (already privacy-clean: no IP, no raw UA).
 * Concurrent appends are group-committed: one write and one fsync for everything waiting, so a
 * 2xx can be sent as soon as `append` resolves. `seal` closes the current segment and starts the next.
 */
export class Spool {
  private readonly lock = new Mutex();
  private waiting: Waiting[] = [];
  private draining = false;
  private current: { handle: FileHandle; segment: Segment } | undefined;
  private sequence: number;

  private constructor(
    private readonly dir: string,
    startSequence: number,
  ) {
    this.sequence = startSequence;
  }

  /** Opens the spool directory; returns the spool and the paths of segments left by a previous process. */
  static open(dir: string): { spool: Spool; leftovers: string[] } {
    mkdirSync(dir, { recursive: true });
    const names = readdirSync(dir)
      .filter((n) => SEGMENT.test(n))
      .sort();
    const leftovers = names.map((name) => join(dir, name));
    const last = names.at(-1);
    const spool = new Spool(dir, last ? Number(SEGMENT.exec(last)?.[1]) + 1 : 1);
    return { spool, leftovers };
  }

  /** Resolves once `rows` are written and fsynced. */
  append(rows: readonly EventRow[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ rows, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting;
        this.waiting = [];
        await this.lock.run(async () => {
          try {
            const current = await this.ensureOpen();
            let text = '';
            for (const w of batch)
              for (const row of w.rows) {
                text += JSON.stringify(row) + '\n';
                current.segment.span.add(row.ts);
              }
            await current.handle.write(text);
            await current.handle.sync();
            for (const w of batch) current.segment.rows += w.rows.length;
            for (const w of batch) w.resolve();
          } catch (error) {
            for (const w of batch) w.reject(error);
          }
        });
      }
    } finally {
      this.draining = false;
    }
  }

  private async ensureOpen(): Promise<{ handle: FileHandle; segment: Segment }> {
    if (this.current) return this.current;
    const path = join(this.dir, `segment-${String(this.sequence++).padStart(12, '0')}.jsonl`);
    const handle = await open(path, 'a');
    this.current = {
      handle,
      segment: { path, rows: 0, span: new RowSpan() },
    };
    return this.current;
  }

  /** Number of rows in the open segment. */
  get openRows(): number {
    return this.current?.segment.rows ?? 0;
  }

  /** Closes the open segment (waiting for in-flight writes) and returns it; the next append opens a new one. */
  seal(): Promise<Segment | undefined> {
    return this.lock.run(async () => {
      const current = this.current;
      this.current = undefined;
      if (!current) return undefined;
      await current.handle.close();
      return current.segment;
    });
  }

  /** Deletes a segment file whose rows are durable in the store. */
  async discard(path: string): Promise<void> {
    await unlink(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}
