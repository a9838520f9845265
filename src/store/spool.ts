import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { AppendFile, trimTornTail } from './append-file.js';
import { CommitPacer } from './commit-pacer.js';
import { wellFormedJson } from './json-text.js';
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

/**
 * Rows already made spool lines (`spoolLine`, each ending in a newline) by another thread: the
 * text, and each row's `ts` in the text's order.
 */
export interface SpoolLines {
  text: string;
  ts: readonly number[];
}

/** How many rows `rows` holds (rows, or spool lines made of them). */
export function rowCount(rows: readonly EventRow[] | SpoolLines): number {
  return 'text' in rows ? rows.ts.length : rows.length;
}

interface Waiting {
  rows: readonly EventRow[] | SpoolLines;
  count: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const SEGMENT = /^segment-(\d{12})\.jsonl$/;

/**
 * One spool line for a row: its JSON, with every lone surrogate replaced by U+FFFD so that the
 * store can always read the line back (a row the gateway acknowledged is never skipped).
 */
export function spoolLine(row: EventRow): string {
  return wellFormedJson(row);
}

/**
 * Append-only, fsynced spool of accepted rows (already privacy-clean: no IP, no raw UA).
 * Concurrent appends are group-committed: one write and one fsync for everything waiting (under
 * load, after a millisecond's wait for the requests behind: commit-pacer.ts), so a 2xx can be
 * sent as soon as `append` resolves. `seal` closes the current segment and starts the next.
 */
export class Spool {
  private readonly lock = new Mutex();
  private waiting: Waiting[] = [];
  private draining = false;
  private written = 0;
  private current: { file: AppendFile; segment: Segment } | undefined;
  private sequence: number;

  private constructor(
    private readonly dir: string,
    startSequence: number,
    private readonly pacer: CommitPacer,
  ) {
    this.sequence = startSequence;
  }

  /**
   * Opens the spool directory; returns the spool and the paths of segments left by a previous
   * process, each cut back to its last whole line (a crash mid-write leaves a torn line that was
   * never acknowledged).
   */
  static open(dir: string, pacer = new CommitPacer()): { spool: Spool; leftovers: string[] } {
    mkdirSync(dir, { recursive: true });
    const names = readdirSync(dir)
      .filter((n) => SEGMENT.test(n))
      .sort();
    const leftovers = names.map((name) => join(dir, name));
    for (const path of leftovers) trimTornTail(path);
    const last = names.at(-1);
    const spool = new Spool(dir, last ? Number(SEGMENT.exec(last)?.[1]) + 1 : 1, pacer);
    return { spool, leftovers };
  }

  /**
   * Resolves once `rows` (or lines made of rows elsewhere) are written whole and fsynced; rejects
   * (with nothing of them left in the file) when the write or the fsync fails — a full disk, an
   * I/O error.
   */
  append(rows: readonly EventRow[] | SpoolLines): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ rows, count: rowCount(rows), resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.waiting.length > 0) {
        const pause = this.pacer.wait();
        if (pause) await pause;
        const batch = this.waiting;
        this.waiting = [];
        await this.lock.run(async () => {
          try {
            const current = this.ensureOpen();
            let text = '';
            for (const { rows } of batch)
              if ('text' in rows) {
                text += rows.text;
                for (const ts of rows.ts) current.segment.span.add(ts);
              } else
                for (const row of rows) {
                  text += spoolLine(row) + '\n';
                  current.segment.span.add(row.ts);
                }
            await current.file.append(Buffer.from(text));
            this.written++;
            for (const w of batch) current.segment.rows += w.count;
            for (const w of batch) w.resolve();
          } catch (error) {
            for (const w of batch) w.reject(error);
          } finally {
            this.pacer.written(batch.length);
          }
        });
      }
    } finally {
      this.draining = false;
    }
  }

  private ensureOpen(): { file: AppendFile; segment: Segment } {
    if (this.current) return this.current;
    const path = join(this.dir, `segment-${String(this.sequence++).padStart(12, '0')}.jsonl`);
    this.current = {
      file: new AppendFile(path),
      segment: { path, rows: 0, span: new RowSpan() },
    };
    return this.current;
  }

  /** Groups written so far (one write and one fsync each), for tests and benches. */
  get groups(): number {
    return this.written;
  }

  /** Number of rows in the open segment. */
  get openRows(): number {
    return this.current?.segment.rows ?? 0;
  }

  /**
   * Closes the open segment (waiting for in-flight writes) and returns it; the next append opens
   * a new one. Throws, keeping the segment open, when a failed write's torn tail cannot be cut off.
   */
  seal(): Promise<Segment | undefined> {
    return this.lock.run(async () => {
      const current = this.current;
      if (!current) return undefined;
      await current.file.close();
      this.current = undefined;
      // A segment whose every write failed holds no row: nothing for the store.
      if (current.segment.rows === 0) {
        await this.discard(current.segment.path);
        return undefined;
      }
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

/**
 * Rewrites a segment the store could not read (written by an earlier version, or damaged):
 * each line JSON can still parse is written again as `spoolLine` writes it (lone surrogates
 * replaced); a line that cannot be parsed at all is moved, as it is, to `<segment>.rejected`
 * beside it — kept for the operator, never dropped. Atomic (write, fsync, rename).
 */
export function repairSegment(path: string): { kept: number; rejected: number } {
  let kept = 0;
  const good: string[] = [];
  const bad: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const row = JSON.parse(line) as unknown;
      if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new Error('not a row');
      good.push(spoolLine(row as EventRow) + '\n');
      kept++;
    } catch {
      bad.push(line + '\n');
    }
  }
  if (bad.length > 0) appendFileSync(`${path}.rejected`, bad.join(''), { flush: true });
  writeFileSync(`${path}.tmp`, good.join(''), { flush: true });
  renameSync(`${path}.tmp`, path);
  return { kept, rejected: bad.length };
}
