import { describe, expect, it } from 'vitest';
import { HeadInjector, ScriptInjector } from './inject.js';

const TAG = '<script async src="/balise/s.js"></script>';

/** The injector's output for `page` written in the given pieces (byte lengths). */
async function inject(page: Buffer, pieces: number[] = [page.length], nonce: string | null = null) {
  const injector = new ScriptInjector(new HeadInjector('/balise/s.js', nonce));
  const out: Buffer[] = [];
  injector.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = new Promise<void>((resolve) => injector.on('end', () => resolve()));
  let at = 0;
  for (const length of pieces) {
    injector.write(page.subarray(at, at + length));
    at += length;
  }
  injector.end(page.subarray(at));
  await ended;
  return Buffer.concat(out);
}

/** `page` with the tag inserted at the place marked `|` (the mark removed). */
function expected(marked: string): { page: Buffer; want: Buffer } {
  const at = marked.indexOf('|');
  const page = marked.slice(0, at) + marked.slice(at + 1);
  return { page: Buffer.from(page), want: Buffer.from(`${page.slice(0, at)}${TAG}${page.slice(at)}`) };
}

describe('ScriptInjector', () => {
  const cases: [string, string][] = [
    ['before </head>', '<!doctype html><html><head><title>t</title>|</head><body>x</body></html>'],
    [
      'a </head> in a title, a comment and a script string is not the head’s end',
      '<html><head><title>a </head> b</title><!-- </head> --><script>var s = "</head>";</script>|</head><body></body>',
    ],
    [
      'a </head> in a style and an attribute value neither',
      '<html><head><style>p::after{content:"</head>"}</style><meta content="</head>">|</HEAD ><body>',
    ],
    ['upper-case tags', '<HTML><HEAD><TITLE>x</TITLE>|</HEAD><BODY>'],
    [
      'right after <body> when there is no </head>',
      '<html><head><title>x</title><body class="a" data-x=">">|<p>x</p>',
    ],
    ['right after <body> when there is no head at all', '<body>|hello</body>'],
  ];

  it.each(cases)('puts the tag %s, whatever the chunk boundaries', async (_name, marked) => {
    const { page, want } = expected(marked);
    expect((await inject(page)).toString()).toBe(want.toString());
    // Every split in two, and one byte at a time.
    for (let cut = 1; cut < page.length; cut++) expect(await inject(page, [cut])).toEqual(want);
    expect(
      await inject(
        page,
        Array.from({ length: page.length }, () => 1),
      ),
    ).toEqual(want);
  });

  it('leaves a page that already loads the script, or has neither head end nor body, as it is', async () => {
    for (const page of [
      `<html><head><script async src="/balise/s.js?v=2"></script></head><body>`,
      `<html><head><title>x</title></html>`,
      'plain text, no markup',
    ]) {
      expect((await inject(Buffer.from(page))).toString()).toBe(page);
    }
  });

  it('keeps every other byte as it came (UTF-8, a stray byte) and adds a nonce', async () => {
    const page = Buffer.concat([
      Buffer.from('<html><head><title>café — 東京</title>'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('</head><body>ü</body>'),
    ]);
    const out = await inject(page, [23], 'n0nce');
    const tag = Buffer.from('<script async src="/balise/s.js" nonce="n0nce"></script>');
    const at = page.indexOf('</head>');
    expect(out).toEqual(Buffer.concat([page.subarray(0, at), tag, page.subarray(at)]));
  });

  it('passes a page whose head is longer than it holds without the tag, byte for byte', async () => {
    const page = Buffer.from(`<html><head><style>${'p{}'.repeat(400_000)}</style></head><body>`);
    // 1 MiB held and no end of head in sight: the page goes on untouched from there.
    const out = await inject(
      page,
      Array.from({ length: 17 }, () => 65_536),
    );
    expect(out.equals(page)).toBe(true);
    // The same page in one piece: its end of head is read at once, and the tag goes before it.
    const whole = await inject(page);
    expect(whole.length).toBe(page.length + TAG.length);
    expect(whole.subarray(page.indexOf('</head>') - 3).toString('latin1', 0, 3 + TAG.length + 7)).toBe(
      `le>${TAG}</head>`,
    );
  });
});
