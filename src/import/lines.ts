import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';

/** Longest line read whole; a longer one is reported as a bad line and skipped (THREATS.md). */
export const MAX_LINE_BYTES = 64 * 1024;

/** One line of a log file: its 1-based number and text, or why it was not read. */
export type Line = { number: number; text: string } | { number: number; error: string };

async function isGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/**
 * The lines of a file, plain or gzip (detected by its magic bytes, whatever its name), read as a
 * stream in constant memory. `onBytes` receives the file bytes read so far (compressed bytes for
 * gzip), for progress. Invalid UTF-8 is replaced (U+FFFD), a trailing `\r` removed, and lines
 * longer than MAX_LINE_BYTES come back as errors.
 */
export async function* readLines(path: string, onBytes?: (bytes: number) => void): AsyncGenerator<Line> {
  const gzip = await isGzip(path);
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  let read = 0;
  // Piped into gunzip, the file's chunks can be counted as they flow; a plain file is counted
  // as it is iterated (a 'data' listener there would start the flow before the loop and lose data).
  if (gzip) {
    file.on('data', (chunk) => {
      read += chunk.length;
      onBytes?.(read);
    });
  }
  const source = gzip ? file.pipe(createGunzip()) : file;
  let number = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let tooLong = false;
  const finish = (bytes: Buffer): Line => {
    number++;
    if (tooLong) {
      tooLong = false;
      return { number, error: `line longer than ${MAX_LINE_BYTES} bytes` };
    }
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 0x0d) end--;
    return { number, text: bytes.toString('utf8', 0, end) };
  };
  for await (const chunk of source as AsyncIterable<Buffer>) {
    if (!gzip) {
      read += chunk.length;
      onBytes?.(read);
    }
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline === -1) break;
      let piece = chunk.subarray(start, newline);
      if (pendingBytes > 0) {
        piece = tooLong ? piece : Buffer.concat([...pending, piece]);
        pending = [];
        pendingBytes = 0;
      }
      if (piece.length > MAX_LINE_BYTES) tooLong = true;
      yield finish(piece);
      start = newline + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (!tooLong) {
        pending.push(rest);
        pendingBytes += rest.length;
        if (pendingBytes > MAX_LINE_BYTES) {
          tooLong = true;
          pending = [];
        }
      }
      // Keep pendingBytes non-zero while a too-long line continues, so its end is recognised.
      if (tooLong) pendingBytes = 1;
    }
  }
  if (pendingBytes > 0 || tooLong) yield finish(tooLong ? Buffer.alloc(0) : Buffer.concat(pending));
}
