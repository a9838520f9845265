import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/**
 * Open flags for a file whose every write is durable when it returns (`O_DSYNC`: the data and
 * what reading it back needs, its length, as `fdatasync` makes them): an append is then one call
 * in libuv's thread pool instead of a write and an fsync, each of which waited for the busy event
 * loop to take its answer (the spool's group commit under load: 1.75 → 1.25 ms a group; with
 * tools, whose journal commits the same way, +20 % events a second: BENCHMARKS.md). Where the
 * platform has no `O_DSYNC` (Windows): plain appends, each followed by an fsync.
 */
const DSYNC_APPEND =
  constants.O_DSYNC === undefined
    ? undefined
    : constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_DSYNC;

/**
 * An append-only file whose appends are durable and all or nothing: an append is on the disk
 * when it resolves; a write is repeated until every byte is written (a full disk may resolve a
 * write with fewer bytes and no error), and a write or sync that fails is cut off again
 * (`truncate` to the last whole append) before the error is passed on — so a failed append never
 * leaves half a record for the next append to follow. When even that truncation fails, the file
 * refuses every append until one succeeds.
 */
export class AppendFile {
  private handle: FileHandle | null = null;
  /** Bytes of whole appends (the file's length when opened, then after each append). */
  private whole = 0;
  /** True when a failed append may have left bytes past `whole`. */
  private torn = false;

  constructor(readonly path: string) {}

  /** Appends `data` whole and on the disk, or throws with the file as it was. */
  async append(data: Buffer): Promise<void> {
    const handle = await this.open();
    if (this.torn) await this.repair(handle);
    try {
      let offset = 0;
      while (offset < data.length) {
        const { bytesWritten } = await handle.write(data, offset, data.length - offset);
        if (bytesWritten <= 0)
          throw Object.assign(new Error(`no byte written to ${this.path}`), { code: 'ENOSPC' });
        offset += bytesWritten;
      }
      if (DSYNC_APPEND === undefined) await handle.sync();
    } catch (error) {
      this.torn = true;
      await this.repair(handle).catch(() => undefined);
      throw error;
    }
    this.whole += data.length;
  }

  /** Closes the file; a torn tail is cut off first (throws, keeping the file open, if it cannot be). */
  async close(): Promise<void> {
    if (!this.handle) return;
    if (this.torn) await this.repair(this.handle);
    const handle = this.handle;
    this.handle = null;
    await handle.close();
  }

  private async open(): Promise<FileHandle> {
    if (this.handle) return this.handle;
    const handle = await open(this.path, DSYNC_APPEND ?? 'a');
    try {
      this.whole = (await handle.stat()).size;
    } catch (error) {
      await handle.close();
      throw error;
    }
    this.handle = handle;
    return handle;
  }

  private async repair(handle: FileHandle): Promise<void> {
    await handle.truncate(this.whole);
    this.torn = false;
  }
}

/**
 * Cuts a JSON-lines file left by a previous process back to its last whole line: what follows
 * the last newline is a write a crash interrupted, never acknowledged (every acknowledged append
 * ends with a newline and was fsynced). Returns the bytes cut off. Reads only the file's tail.
 */
export function trimTornTail(path: string, maxLineBytes = 1 << 20): number {
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return 0;
    const length = Math.min(size, maxLineBytes);
    const tail = Buffer.alloc(length);
    readSync(fd, tail, 0, length, size - length);
    const newline = tail.lastIndexOf(0x0a);
    if (newline === length - 1) return 0;
    // No newline in the last maxLineBytes of a longer file: not a torn line; left for the reader to refuse.
    if (newline < 0 && size > length) return 0;
    const keep = size - length + newline + 1;
    ftruncateSync(fd, keep);
    return size - keep;
  } finally {
    closeSync(fd);
  }
}
