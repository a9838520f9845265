import { mkdirSync, readdirSync } from 'node:fs';
import { open, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Mutex } from './mutex.js';
import type { EventRow } from './row.js';

/** One spool file and the rows made durable in it (kept in memory until they reach the store). */
export interface Segment {
  readonly path: string;
  readonly rows: EventRow[];
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

  /** Opens the spool directory; returns the spool and the segments left by a previous process. */
  static async open(dir: string): Promise<{ spool: Spool; leftovers: Segment[] }> {
    mkdirSync(dir, { recursive: true });
    const names = readdirSync(dir)
      .filter((n) => SEGMENT.test(n))
      .sort();
    const leftovers: Segment[] = [];
    for (const name of names) {
      const path = join(dir, name);
      leftovers.push({ path, rows: parseSegment(await readFile(path, 'utf8')) });
    }
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
            const text = batch.map((w) => w.rows.map((r) => JSON.stringify(r) + '\n').join('')).join('');
            await current.handle.write(text);
            await current.handle.sync();
            for (const w of batch) current.segment.rows.push(...w.rows);
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
    this.current = { handle, segment: { path, rows: [] } };
    return this.current;
  }

  /** Number of rows in the open segment. */
  get openRows(): number {
    return this.current?.segment.rows.length ?? 0;
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

  /** Deletes a segment whose rows are durable in the store. */
  async discard(segment: Segment): Promise<void> {
    await unlink(segment.path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}

/** Parses a segment; a torn last line (crash mid-write, never acknowledged) is ignored. */
export function parseSegment(text: string): EventRow[] {
  const rows: EventRow[] = [];
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    try {
      rows.push(JSON.parse(line) as EventRow);
    } catch {
      // Only an unacknowledged, partly written line can fail to parse.
    }
  }
  return rows;
}
