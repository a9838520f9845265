import type { LineParser, ParsedLine } from './record.js';
import { parseFlexibleTime, parseTimeLocal } from './times.js';

/** Apache/NGINX `combined`, as an NGINX log_format string. */
export const COMBINED =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';
/** Apache/NGINX `common` (CLF). */
export const COMMON = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent';

// Variables the importer reads; any other variable is matched and ignored.
const KNOWN = new Set([
  'remote_addr',
  'time_local',
  'time_iso8601',
  'msec',
  'request',
  'request_method',
  'request_uri',
  'uri',
  'status',
  'body_bytes_sent',
  'bytes_sent',
  'http_referer',
  'http_user_agent',
  'host',
  'http_host',
  'server_name',
]);

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** An NGINX log_format string the importer cannot use, with what to fix. */
export class LogFormatError extends Error {}

/** Undoes Apache's `\"` and `\\` and NGINX's `\x22` escapes inside quoted fields. */
function unescape(value: string): string {
  if (!value.includes('\\')) return value;
  return value.replace(
    /\\x([0-9a-fA-F]{2})|\\(["\\])/g,
    (_, hex: string | undefined, char: string | undefined) =>
      hex ? String.fromCharCode(parseInt(hex, 16)) : char!,
  );
}

const METHOD = /^[A-Z]{3,10}$/;

const dash = (value: string | undefined): string | null =>
  value === undefined || value === '' || value === '-' ? null : value;

/**
 * Compiles an NGINX `log_format` string into a line parser. Each `$variable` (or `${variable}`)
 * becomes a capture: inside double quotes anything but an unescaped quote, `$time_local` anything
 * up to `]`, otherwise a run of non-spaces; the text between variables must match literally.
 * The format needs a time (`$time_local`, `$time_iso8601` or `$msec`), the client address and
 * the request (`$request`, or `$request_uri`/`$uri`).
 */
export function compileLogFormat(format: string): LineParser {
  const names: string[] = [];
  let pattern = '^';
  let last = 0;
  const variable = /\$(?:\{([a-zA-Z0-9_]+)\}|([a-zA-Z0-9_]+))/g;
  for (let m = variable.exec(format); m; m = variable.exec(format)) {
    const name = (m[1] ?? m[2])!;
    pattern += escapeRegExp(format.slice(last, m.index));
    const quoted = format[m.index - 1] === '"';
    // Unrolled loop (runs of plain characters, then one escape): the same language as
    // (?:[^"\\]|\\.)* without one alternation per character.
    if (quoted) pattern += '([^"\\\\]*(?:\\\\.[^"\\\\]*)*)';
    else if (name === 'time_local') pattern += '([^\\]]*)';
    else pattern += '(\\S*)';
    names.push(name);
    last = m.index + m[0].length;
  }
  pattern += `${escapeRegExp(format.slice(last))}$`;
  const has = (name: string) => names.includes(name);
  if (!has('time_local') && !has('time_iso8601') && !has('msec'))
    throw new LogFormatError('the log_format has no time: add $time_local, $time_iso8601 or $msec');
  if (!has('remote_addr')) throw new LogFormatError('the log_format has no client address: add $remote_addr');
  if (!has('request') && !has('request_uri') && !has('uri'))
    throw new LogFormatError('the log_format has no request: add $request or $request_uri');
  const regex = new RegExp(pattern);
  // Capture group of each variable the importer reads (0: absent), resolved once.
  const group = (name: string): number => {
    const i = names.indexOf(name);
    return i === -1 || !KNOWN.has(name) ? 0 : i + 1;
  };
  const timeLocal = group('time_local');
  const timeIso = group('time_iso8601');
  const msec = group('msec');
  const requestUri = group('request_uri');
  const uri = group('uri');
  const request = group('request');
  const remoteAddr = group('remote_addr');
  const statusAt = group('status');
  const bytesAt = group('body_bytes_sent') || group('bytes_sent');
  const referer = group('http_referer');
  const userAgent = group('http_user_agent');
  const hostAt = group('host') || group('http_host') || group('server_name');
  const at = (match: RegExpExecArray, i: number): string | undefined => (i === 0 ? undefined : match[i]);

  return (line: string): ParsedLine => {
    const match = regex.exec(line);
    if (!match) return { error: 'does not match the log format' };
    // Most lines hold no escape at all: one search of the whole line (a flat string) instead of
    // one per field (fields are slices of the line, searched on a slow path).
    const escaped = line.includes('\\');
    const ts =
      timeLocal !== 0
        ? parseTimeLocal(match[timeLocal]!)
        : parseFlexibleTime(at(match, timeIso) ?? at(match, msec));
    if (ts === null) return { error: 'unreadable time' };
    let target = dash(at(match, requestUri)) ?? dash(at(match, uri));
    if (request !== 0) {
      // "METHOD TARGET" or "METHOD TARGET PROTOCOL", split on single spaces.
      const requestText = escaped ? unescape(match[request]!) : match[request]!;
      const first = requestText.indexOf(' ');
      const second = first === -1 ? -1 : requestText.indexOf(' ', first + 1);
      if (
        first === -1 ||
        (second !== -1 && requestText.indexOf(' ', second + 1) !== -1) ||
        !METHOD.test(requestText.slice(0, first))
      )
        return { error: 'the request is not "METHOD TARGET PROTOCOL"' };
      target = second === -1 ? requestText.slice(first + 1) : requestText.slice(first + 1, second);
    }
    if (!target) return { error: 'no request target' };
    const status = Number(at(match, statusAt));
    const bytes = Number(at(match, bytesAt));
    const referrer = at(match, referer);
    return {
      kind: 'http',
      ts,
      ip: at(match, remoteAddr) ?? '',
      host: dash(at(match, hostAt))?.toLowerCase() ?? null,
      target,
      status: Number.isInteger(status) && status >= 100 && status <= 999 ? status : null,
      bytes: Number.isInteger(bytes) && bytes >= 0 ? bytes : null,
      referrer: referrer === undefined ? null : dash(escaped ? unescape(referrer) : referrer),
      userAgent: escaped ? unescape(dash(at(match, userAgent)) ?? '') : (dash(at(match, userAgent)) ?? ''),
    };
  };
}
