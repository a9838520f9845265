import { localToUtc } from '../../time.js';
import { isError, jsonObject, type LineParser, type ParsedLine } from './record.js';
import { parseFlexibleTime } from './times.js';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

// 22-Nov-2026 20:00:01.123 [queries: info: ]client [@0x7f…] 192.0.2.10#53211 (www.example.fr): [view x: ]query: www.example.fr IN A +E(0) (192.0.2.53)
const BIND =
  /^(\d{2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))? (?:[\w-]+: )*client (?:@0x[0-9a-f]+ )?([0-9A-Fa-f.:]+)#\d+ \([^)]*\): (?:view [^:]+: )?query: (\S+) IN (\S+) /;

/** A lowercase DNS name without its trailing dot, or null when it is not a plausible name. */
function dnsName(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const name = value.toLowerCase().replace(/\.$/, '');
  return name.length > 0 && name.length <= 253 && /^[a-z0-9_*.-]+$/.test(name) ? name : null;
}

/**
 * BIND query-log lines (`querylog yes`). BIND writes local times without a zone: they are read in
 * `timeZone` (the `--tz` of the import, default UTC).
 */
export function bindParser(timeZone: string): LineParser {
  return (line: string): ParsedLine => {
    const m = BIND.exec(line);
    if (!m) return { error: 'not a BIND query log line' };
    const month = MONTHS.indexOf(m[2]!.toLowerCase());
    if (month < 0) return { error: 'unreadable time' };
    const local = {
      year: Number(m[3]),
      month: month + 1,
      day: Number(m[1]),
      hour: Number(m[4]),
      minute: Number(m[5]),
      second: Number(m[6]),
    };
    const ts = localToUtc(local, timeZone) + Number((m[7] ?? '0').padEnd(3, '0'));
    const name = dnsName(m[9]);
    if (!name) return { error: 'unreadable query name' };
    return { kind: 'dns', ts, ip: m[8]!, name, qtype: m[10]!.toUpperCase().slice(0, 16) };
  };
}

/**
 * DNS queries as JSON lines: `{"timestamp": …, "client": "192.0.2.10", "qname": "www.example.fr",
 * "qtype": "A"}`; `time`/`ts`, `client_ip`/`ip`, `query`/`name` and `type` are accepted as well.
 */
export function dnsJsonlParser(): LineParser {
  return (line: string): ParsedLine => {
    const o = jsonObject(line);
    if (isError(o)) return o;
    const ts = parseFlexibleTime(o.timestamp ?? o.time ?? o.ts);
    if (ts === null) return { error: 'no readable timestamp' };
    const name = dnsName(o.qname ?? o.query ?? o.name);
    if (!name) return { error: 'no readable qname' };
    const ip = o.client ?? o.client_ip ?? o.ip;
    const qtype = o.qtype ?? o.type;
    return {
      kind: 'dns',
      ts,
      ip: typeof ip === 'string' ? ip.replace(/#\d+$/, '') : '',
      name,
      qtype: typeof qtype === 'string' ? qtype.toUpperCase().slice(0, 16) : 'A',
    };
  };
}
