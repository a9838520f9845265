import { pino, stdTimeFunctions } from 'pino';

type Level = 'info' | 'warn' | 'error';

/** The level of a log line, read from its code (the text before the first `:`). */
export function levelOf(line: string): Level {
  const code = /^([A-Za-z_]+):/.exec(line)?.[1] ?? '';
  if (/unavailable|failed|failing|cannot|internal|error/i.test(code)) return 'error';
  if (/^(untrusted_proxy|weak_password_hash|spool_repaired|settings_not_|warning|legacy)/.test(code))
    return 'warn';
  return 'info';
}

/**
 * The gateway's log as JSON lines (`server.logFormat: json`), on pino: `time` (ISO), `level`,
 * `node`, `code` (the line's code when it has one) and `msg` (the line). Lines are what the
 * plain log says — codes and counts, never an IP address, a User-Agent or event content.
 */
export function jsonLog(node: string, write: (text: string) => void): (line: string) => void {
  const logger = pino(
    {
      base: { node },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    { write },
  );
  return (line) => {
    const code = /^([a-z_]+):/.exec(line)?.[1];
    logger[levelOf(line)](code ? { code } : {}, line);
  };
}
