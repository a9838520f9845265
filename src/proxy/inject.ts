import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { RewritingStream } from 'parse5-html-rewriting-stream';

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

/**
 * Adds `<script async src="…/s.js">` before `</head>` (else right after `<body>`), once, unless the
 * page already loads that script before; every other byte passes as it came.
 */
export class ScriptInjector extends Transform {
  private readonly rewriter = new RewritingStream();
  private done = false;

  constructor(scriptSrc: string, nonce: string | null) {
    super();
    const tag = `<script async src="${escapeAttribute(scriptSrc)}"${nonce ? ` nonce="${escapeAttribute(nonce)}"` : ''}></script>`;
    const rewriter = this.rewriter;
    rewriter.on('data', (text: string) => this.push(Buffer.from(text, 'latin1')));
    rewriter.on('startTag', (token, raw) => {
      if (!this.done && token.tagName === 'script') {
        const src = token.attrs.find((attr) => attr.name === 'src')?.value ?? '';
        if (src.split(/[?#]/)[0]!.endsWith(scriptSrc)) this.done = true;
      }
      rewriter.emitRaw(raw);
      if (!this.done && token.tagName === 'body') {
        rewriter.emitRaw(tag);
        this.done = true;
      }
    });
    rewriter.on('endTag', (token, raw) => {
      if (!this.done && token.tagName === 'head') {
        rewriter.emitRaw(tag);
        this.done = true;
      }
      rewriter.emitRaw(raw);
    });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.rewriter.write(chunk.toString('latin1'), () => callback());
  }

  override _flush(callback: TransformCallback): void {
    this.rewriter.once('end', () => callback());
    this.rewriter.end();
  }
}
