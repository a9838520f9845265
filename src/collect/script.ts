import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** The built client script, with its gzip form and ETag, read once at start. */
export interface ClientScript {
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

/** Path of the built client script (dist/client/s.js, made by `npm run build`). */
export const CLIENT_SCRIPT_PATH = fileURLToPath(new URL('../../dist/client/s.js', import.meta.url));

/** Loads dist/client/s.js; throws a message saying what to run when it has not been built. */
export function loadClientScript(path = CLIENT_SCRIPT_PATH): ClientScript {
  let body: Buffer;
  try {
    body = readFileSync(path);
  } catch {
    throw new Error(`client script not found at ${path}; run "npm run build" first`);
  }
  return {
    body,
    gzip: gzipSync(body, { level: 9 }),
    etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`,
  };
}
