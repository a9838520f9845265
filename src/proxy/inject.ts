import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { Parser } from 'htmlparser2';
import { Memo } from '../memo.js';

/** The Content-Encodings the proxy can open and close again to inject the script. */
const CODECS = {
  gzip: { open: () => zlib.createGunzip(), close: () => zlib.createGzip() },
  'x-gzip': { open: () => zlib.createGunzip(), close: () => zlib.createGzip() },
  deflate: { open: () => zlib.createInflate(), close: () => zlib.createDeflate() },
  br: { open: () => zlib.createBrotliDecompress(), close: () => zlib.createBrotliCompress() },
} as const;

/** The nonce a response's Content-Security-Policy gives scripts, if any. */
export function scriptNonce(csp: string | string[] | undefined): string | null {
  if (csp === undefined) return null;
  const text = Array.isArray(csp) ? csp.join(';') : csp;
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

/** How an HTML answer gets the script: its encoding to open and close again (null: none) and the injector. */
export interface Injection {
  codec: (typeof CODECS)[keyof typeof CODECS] | null;
  injector: HeadInjector;
}

/**
 * How to add the script to an answer, or null when this answer is not one to touch (not
 * text/html, an encoding it cannot reopen). The body is read as latin1 — every byte one
 * character — so whatever its charset, the bytes the injector does not change leave exactly as
 * they came; compressed answers are opened and closed again with the same encoding.
 */
export function injectionOf(
  headers: Record<string, string | string[] | undefined>,
  scriptSrc: string,
): Injection | null {
  const type = String(headers['content-type'] ?? '').toLowerCase();
  if (!type.startsWith('text/html')) return null;
  const encoding = String(headers['content-encoding'] ?? 'identity')
    .trim()
    .toLowerCase();
  const codec = encoding === 'identity' || encoding === '' ? null : CODECS[encoding as keyof typeof CODECS];
  if (codec === undefined) return null;
  return { codec, injector: new HeadInjector(scriptSrc, scriptNonce(headers['content-security-policy'])) };
}

/** The streams of an injection: the injector, between the codec's opening and closing when encoded. */
export function injectionStreams(injection: Injection): Transform[] {
  const injector = new ScriptInjector(injection.injector);
  return injection.codec ? [injection.codec.open(), injector, injection.codec.close()] : [injector];
}

const escapeAttribute = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;');

/** The script tag, with the page's nonce if any. */
function scriptTag(scriptSrc: string, nonce: string | null): Buffer {
  return Buffer.from(
    `<script async src="${escapeAttribute(scriptSrc)}"${nonce ? ` nonce="${escapeAttribute(nonce)}"` : ''}></script>`,
    'latin1',
  );
}

/** The tags without a nonce, made once per script address (a gateway has one per site). */
const plainTags = new Memo<Buffer>(1_000);
const plainTag = (scriptSrc: string) => scriptTag(scriptSrc, null);

/** The most of a page held while looking for its `</head>` (or `<body>`): past it, sent untouched. */
const MAX_HELD = 1024 * 1024;

/**
 * Adds `<script async src="…/s.js">` before `</head>` (else right after `<body>`), once, unless the
 * page already loads that script before. The page's bytes are held — and read by an HTML
 * tokenizer (`htmlparser2`: comments, attributes and the text of scripts, styles and titles are
 * skipped as a browser does) as latin1, one character a byte — only until that point is found;
 * then they leave as they came with the tag inserted at its offset, and the rest passes through
 * untouched and unparsed. htmlparser2 reads a head at ≈ 3 ns a character (parse5's SAX parser,
 * used before, ≈ 180: 6 ms for a 36 KB head of inline styles and scripts); BENCHMARKS.md.
 * A plain object fed chunk by chunk (no stream of its own: the proxy's uncompressed path relays
 * the body without one).
 */
export class HeadInjector {
  private readonly parser: Parser;
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Where the tag goes (a byte offset), null when it must not be added; undefined until known. */
  private at: number | null | undefined = undefined;
  private passing = false;
  private readonly tag: Buffer;

  constructor(scriptSrc: string, nonce: string | null) {
    this.tag = nonce ? scriptTag(scriptSrc, nonce) : plainTags.get(scriptSrc, plainTag);
    const found = (at: number | null) => {
      this.at = at;
      this.parser.pause();
    };
    this.parser = new Parser(
      {
        onopentag: (name, attributes, implied) => {
          if (this.at !== undefined || implied) return;
          if (name === 'script') {
            if ((attributes.src ?? '').split(/[?#]/)[0]!.endsWith(scriptSrc)) found(null);
          } else if (name === 'body') found(this.parser.endIndex + 1);
        },
        // A `</head>` written in the page, not one implied by a tag that closes the head.
        onclosetag: (name, implied) => {
          if (this.at === undefined && !implied && name === 'head') found(this.parser.startIndex);
        },
      },
      { decodeEntities: false, lowerCaseTags: true, lowerCaseAttributeNames: true },
    );
  }

  /** True once the tag went into the page (known when the first bytes are released). */
  get injected(): boolean {
    return this.passing && typeof this.at === 'number';
  }

  /** How many bytes the tag adds. */
  get tagLength(): number {
    return this.tag.length;
  }

  /** Takes the page's next bytes; returns the pieces that can be sent now (null: nothing yet). */
  write(chunk: Buffer): Buffer[] | null {
    if (this.passing) return [chunk];
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    this.parser.write(chunk.toString('latin1'));
    return this.at !== undefined || this.heldBytes > MAX_HELD ? this.release() : null;
  }

  /** The page has ended: returns the pieces still held (null: nothing). */
  end(): Buffer[] | null {
    return this.passing ? null : this.release();
  }

  /**
   * What is held, in pieces, with the tag at its place (if any) — the page's own memory, not a
   * copy (a page's head usually comes in its first chunk); from then on, bytes pass through.
   */
  private release(): Buffer[] {
    this.passing = true;
    const page = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held, this.heldBytes);
    this.held = [];
    return typeof this.at === 'number'
      ? [page.subarray(0, this.at), this.tag, page.subarray(this.at)]
      : [page];
  }
}

/** A HeadInjector as a stream, between a compressed answer's opening and closing. */
export class ScriptInjector extends Transform {
  constructor(private readonly injector: HeadInjector) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    for (const piece of this.injector.write(chunk) ?? []) this.push(piece);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    for (const piece of this.injector.end() ?? []) this.push(piece);
    callback();
  }
}
