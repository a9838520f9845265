import { describe, expect, it } from 'vitest';
import { COMBINED, compileLogFormat } from './nginx-format.js';

const parse = compileLogFormat(COMBINED);

describe('combined log lines', () => {
  it('reads every field of a plain line', () => {
    expect(
      parse(
        '198.51.100.4 - - [17/May/2015:10:05:03 +0000] "GET /a?b=1 HTTP/1.1" 200 7697 "https://example.org/x" "Mozilla/5.0 (X11)"',
      ),
    ).toEqual({
      kind: 'http',
      ts: Date.UTC(2015, 4, 17, 10, 5, 3),
      ip: '198.51.100.4',
      host: null,
      target: '/a?b=1',
      status: 200,
      bytes: 7697,
      referrer: 'https://example.org/x',
      userAgent: 'Mozilla/5.0 (X11)',
    });
  });

  it("undoes Apache's \\\" and \\\\ and NGINX's \\x22 in the request, referrer and User-Agent", () => {
    const line = String.raw`198.51.100.4 - - [17/May/2015:10:05:03 +0000] "GET /q\x22x HTTP/1.1" 404 - "https://example.org/\"r\"" "Bot \"v2\" C:\\x"`;
    expect(parse(line)).toMatchObject({
      target: '/q"x',
      status: 404,
      bytes: null,
      referrer: 'https://example.org/"r"',
      userAgent: 'Bot "v2" C:\\x',
    });
  });

  it('keeps a backslash-free line as it is when another line had escapes', () => {
    parse(String.raw`198.51.100.4 - - [17/May/2015:10:05:03 +0000] "GET /\x41 HTTP/1.1" 200 1 "-" "\x41"`);
    expect(
      parse('198.51.100.4 - - [17/May/2015:10:05:04 +0000] "GET /x41 HTTP/1.1" 200 1 "-" "x41"'),
    ).toMatchObject({ target: '/x41', referrer: null, userAgent: 'x41' });
  });
});
