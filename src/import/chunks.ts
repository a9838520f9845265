import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';

/** Longest line read whole; a longer one is reported as a bad line and skipped (docs/threats.md). */
export const MAX_LINE_BYTES = 64 * 1024;

/**
 * Whole lines of a file, a few megabytes at a time: `bytes` holds `lines` lines, each ending in
 * `\n`, the first being line `firstLine` (1-based) of the file. A line longer than
 * MAX_LINE_BYTES is never held: it stands as an empty line whose index (0-based, in this chunk)
 * is listed in `tooLong`.
 */
export interface Chunk {
  bytes: Buffer;
  firstLine: number;
  lines: number;
  tooLong: number[];
}

/** Memory a chunk of about `chunkBytes` may need: its lines may end up to one longest line past it. */
export function chunkCapacity(chunkBytes: number): number {
  return chunkBytes + MAX_LINE_BYTES + 1;
}

/** True when the file starts with gzip's magic bytes (whatever its name). */
export async function isGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

const READ_BYTES = 1 << 20;

/**
 * A plain file's bytes in blocks read into one buffer, reused: each block is valid until the next
 * is asked for. (A read stream takes new memory for every block, which the system must then map
 * page by page: about 60,000 page faults per 237 MB file.)
 */
async function* plainBlocks(path: string, onRead: (bytes: number) => void): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  try {
    const block = Buffer.allocUnsafeSlow(READ_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(block, 0, READ_BYTES, null);
      if (bytesRead === 0) return;
      onRead(bytesRead);
      yield block.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/**
 * The lines of a file, plain or gzip (detected by its magic bytes, whatever its name), as chunks
 * of about `chunkBytes`, read as a stream in constant memory. `onBytes` receives the file bytes
 * read so far (compressed bytes for gzip), for progress. A last line without `\n` gets one.
 * Chunk memory is taken from `spare` (memory of chunks already processed, or shared slots) when it
 * has some.
 */
export async function* readChunks(
  path: string,
  chunkBytes: number,
  onBytes?: (bytes: number) => void,
  spare: (ArrayBuffer | SharedArrayBuffer)[] = [],
): AsyncGenerator<Chunk> {
  const gzip = await isGzip(path);
  // The file's bytes (compressed bytes for gzip) are counted as they are read.
  let read = 0;
  const count = (bytes: number) => {
    read += bytes;
    onBytes?.(read);
  };
  let source: AsyncIterable<Buffer>;
  if (gzip) {
    const file = createReadStream(path, { highWaterMark: READ_BYTES });
    file.on('data', (data) => count(data.length));
    source = file.pipe(createGunzip());
  } else source = plainBlocks(path, count);
  const capacity = chunkCapacity(chunkBytes);
  // A chunk's memory comes back in `spare` once its lines are processed, and is refilled.
  const buffer = (): Buffer => {
    const reused = spare.pop();
    return reused && reused.byteLength >= capacity
      ? Buffer.from(reused, 0, capacity)
      : Buffer.allocUnsafeSlow(capacity);
  };
  let out = buffer();
  let used = 0;
  let lines = 0;
  let firstLine = 1;
  let tooLong: number[] = [];
  // The start of a line whose end has not arrived yet, and whether it is already too long.
  let partial: Buffer[] = [];
  let partialBytes = 0;
  let skipping = false;

  const endLine = (piece: Buffer) => {
    if (skipping || partialBytes + piece.length > MAX_LINE_BYTES) {
      tooLong.push(lines);
    } else {
      for (const part of partial) used += part.copy(out, used);
      used += piece.copy(out, used);
    }
    out[used++] = 0x0a;
    lines++;
    partial = [];
    partialBytes = 0;
    skipping = false;
  };
  const take = (): Chunk => {
    const chunk = { bytes: out.subarray(0, used), firstLine, lines, tooLong };
    out = buffer();
    firstLine += lines;
    used = 0;
    lines = 0;
    tooLong = [];
    return chunk;
  };

  // `data` is only valid in its turn of the loop (plain blocks reuse one buffer): what is kept of
  // it is copied.
  for await (const data of source) {
    let start = 0;
    // Lines wholly inside `data` are copied in runs, not one by one: a run ends at a line that
    // is too long, a line continued from the previous data, or a full chunk.
    while (start < data.length) {
      const newline = data.indexOf(0x0a, start);
      if (newline === -1) break;
      if (partialBytes > 0 || skipping || newline - start > MAX_LINE_BYTES) {
        endLine(data.subarray(start, newline));
        start = newline + 1;
      } else {
        let end = newline;
        let count = 1;
        const room = capacity - MAX_LINE_BYTES - 1 - used;
        for (;;) {
          const next = data.indexOf(0x0a, end + 1);
          if (next === -1 || next - end - 1 > MAX_LINE_BYTES || next + 1 - start > room) break;
          end = next;
          count++;
          if (end + 1 - start >= chunkBytes - used) break;
        }
        used += data.copy(out, used, start, end + 1);
        lines += count;
        start = end + 1;
      }
      if (used >= chunkBytes) yield take();
    }
    if (start < data.length && !skipping) {
      const rest = data.subarray(start);
      partialBytes += rest.length;
      if (partialBytes > MAX_LINE_BYTES) {
        skipping = true;
        partial = [];
      } else partial.push(Buffer.from(rest));
    }
  }
  if (partialBytes > 0 || skipping) endLine(Buffer.alloc(0));
  if (lines > 0) yield take();
  // The memory made ready for a next chunk goes back for the next file.
  spare.push(out.buffer);
}
