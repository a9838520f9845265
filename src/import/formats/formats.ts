import type { Config } from '../../config/schema.js';
import { bindParser, dnsJsonlParser } from './dns.js';
import { CLOUDFLARE, jsonlParser } from './jsonl.js';
import { COMBINED, COMMON, compileLogFormat, LogFormatError } from './nginx-format.js';
import type { LineParser } from './record.js';

/** The formats `balise import --format` accepts. */
export const FORMAT_HELP =
  "combined, common, nginx:NAME (import.logFormats.NAME) or nginx:'<log_format string>', jsonl:cloudflare, jsonl:NAME (import.jsonl.NAME), dns-bind, dns-jsonl";

/** A format name that cannot be used, with what is allowed. */
export class FormatError extends Error {}

/** The line parser of a `--format` value; `timeZone` reads zone-less times (BIND). */
export function resolveFormat(spec: string, config: Config, timeZone: string): LineParser {
  try {
    if (spec === 'combined') return compileLogFormat(COMBINED);
    if (spec === 'common') return compileLogFormat(COMMON);
    if (spec === 'dns-bind') return bindParser(timeZone);
    if (spec === 'dns-jsonl') return dnsJsonlParser();
    if (spec.startsWith('nginx:')) {
      const value = spec.slice('nginx:'.length);
      const named = config.import.logFormats[value];
      if (named) return compileLogFormat(named);
      if (value.includes('$')) return compileLogFormat(value);
      const names = Object.keys(config.import.logFormats).join(', ') || 'none configured';
      throw new FormatError(`no log format "${value}" in import.logFormats (have: ${names})`);
    }
    if (spec.startsWith('jsonl:')) {
      const name = spec.slice('jsonl:'.length);
      const mapping = config.import.jsonl[name] ?? (name === 'cloudflare' ? CLOUDFLARE : undefined);
      if (mapping) return jsonlParser(mapping);
      const names = ['cloudflare', ...Object.keys(config.import.jsonl)].join(', ');
      throw new FormatError(`no JSON-lines mapping "${name}" (have: ${names})`);
    }
  } catch (error) {
    if (error instanceof LogFormatError) throw new FormatError(`--format ${spec}: ${error.message}`);
    throw error;
  }
  throw new FormatError(`unknown format "${spec}"; use ${FORMAT_HELP}`);
}
