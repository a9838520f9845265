import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { SAXParser } from 'parse5-sax-parser';

/** The Content-Encodings the proxy can open and close again to inject the script. */
const CODECS = {
  gzip: { open: () => zlib.createGunzip(), close: () => zlib.createGzip() },
  'x-gzip': { open: () => zlib.createGunzip(), close: () => zlib.createGzip() },
  deflate: { open: () => zlib.createInflate(), close: () => zlib.createDeflate() },
  br: { open: () => zlib.createBrotliDecompress(), close: () => zlib.createBrotliCompress() },
} as const;

/** The nonce a response's Content-Security-Policy gives scripts, if any. */
export function scriptNonce(csp: string | string[] | undefined): string | null {
  const text = Array.isArray(csp) ? csp.join(';') : (csp ?? '');
  for (const directive of text.split(';')) {
    const [name, ...values] = directive.trim().split(/\s+/);
    if (name !== 'script-src' && name !== 'script-src-elem' && name !== 'default-src') continue;
    for (const value of values) {
      const nonce = /^'nonce-([A-Za-z0-9+/=_-]+)'$/.exec(value)?.[1];
      if (nonce) return nonce;
    }
  }
  return null;
}

/**
 * The streams that add the script to an HTML answer, or null when this answer is not one to
 * touch (not text/html, an encoding it cannot reopen). The body is read as latin1 — every byte
 * one character — so whatever its charset, the bytes the rewriter does not change leave exactly
 * as they came; compressed answers are opened and closed again with the same encoding.
 */
export function injectionStreams(
  headers: Record<string, string | string[] | undefined>,
  scriptSrc: string,
): Transform[] | null {
  const type = String(headers['content-type'] ?? '').toLowerCase();
  if (!type.startsWith('text/html')) return null;
  const encoding = String(headers['content-encoding'] ?? 'identity')
    .trim()
    .toLowerCase();
  const codec = encoding === 'identity' || encoding === '' ? null : CODECS[encoding as keyof typeof CODECS];
  if (codec === undefined) return null;
  const injector = new ScriptInjector(scriptSrc, scriptNonce(headers['content-security-policy']));
  return codec ? [codec.open(), injector, codec.close()] : [injector];
}

const escapeAttribute = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;');

/** The most of a page held while looking for its `</head>` (or `<body>`): past it, sent untouched. */
const MAX_HELD = 1024 * 1024;
/** How much of the page the tokenizer reads at a time (characters). */
const SLICE = 256;

/**
 * Adds `<script async src="…/s.js">` before `</head>` (else right after `<body>`), once, unless the
 * page already loads that script before. The page's bytes are held — and read by an HTML
 * tokenizer (`parse5-sax-parser`) as latin1, one character a byte — only until that point is
 * found; then they leave as they came with the tag inserted at its offset, and the rest passes
 * through untouched and unparsed.
 */
export class ScriptInjector extends Transform {
  private readonly parser = new SAXParser({ sourceCodeLocationInfo: true });
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Where the tag goes (a byte offset), null when it must not be added; undefined until known. */
  private at: number | null | undefined = undefined;
  private passing = false;
  private readonly tag: Buffer;

  constructor(scriptSrc: string, nonce: string | null) {
    super();
    this.tag = Buffer.from(
      `<script async src="${escapeAttribute(scriptSrc)}"${nonce ? ` nonce="${escapeAttribute(nonce)}"` : ''}></script>`,
      'latin1',
    );
    this.parser.on('startTag', (token) => {
      if (this.at !== undefined) return;
      if (token.tagName === 'script') {
        const src = token.attrs.find((attr) => attr.name === 'src')?.value ?? '';
        if (src.split(/[?#]/)[0]!.endsWith(scriptSrc)) this.at = null;
      } else if (token.tagName === 'body') this.at = token.sourceCodeLocation!.endOffset;
    });
    this.parser.on('endTag', (token) => {
      if (this.at === undefined && token.tagName === 'head') this.at = token.sourceCodeLocation!.startOffset;
    });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.passing) {
      callback(null, chunk);
      return;
    }
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    // Tokenized a slice at a time, so that the parsing stops right after the point is found
    // (a page's head is a small part of it).
    const text = chunk.toString('latin1');
    // The tokenizer is fed directly (its stream interface adds a buffered write and a tick per call).
    const parser = this.parser as unknown as { _transformChunk(text: string): string };
    for (let start = 0; start < text.length && this.at === undefined; start += SLICE)
      parser._transformChunk(text.slice(start, start + SLICE));
    if (this.at !== undefined || this.heldBytes > MAX_HELD) this.release();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (!this.passing) this.release();
    callback();
  }

  /** Sends what is held, with the tag at its place (if any), and passes the rest through. */
  private release(): void {
    this.passing = true;
    this.parser.stop();
    const page = Buffer.concat(this.held, this.heldBytes);
    this.held = [];
    this.push(
      typeof this.at === 'number'
        ? Buffer.concat([page.subarray(0, this.at), this.tag, page.subarray(this.at)])
        : page,
    );
  }
}
