import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AlertLog, alertFilter } from '../alerts/alert-log.js';
import { loadConfigFile, localPaths } from '../config/load.js';
import { BaliseError } from '../errors.js';
import { parse, UsageError } from './args.js';
import { formatRows } from './output.js';
import { outputFormat } from './query.js';

/**
 * `balise alerts --config FILE [--site S] [--detector D] [--since 2026-12-05T14:00Z] [--limit 100]
 * [--format table|json|csv]`: the alert log, newest first. It reads the log file, so it answers
 * while the gateway runs.
 */
export async function alertsCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parse(argv, {
    config: { type: 'string', short: 'c' },
    site: { type: 'string' },
    detector: { type: 'string' },
    since: { type: 'string' },
    limit: { type: 'string' },
    format: { type: 'string' },
  });
  if (!values.config)
    throw new UsageError('usage: balise alerts --config balise.yaml [--site HOST] [--since 2026-12-05]');
  const format = outputFormat(values.format);
  const { config: file, format: _format, ...filters } = values;
  let filter;
  try {
    filter = alertFilter(filters);
  } catch (error) {
    if (!(error instanceof BaliseError)) throw error;
    out(`error: --${error.path ?? '?'}: ${error.message}`);
    return 2;
  }
  const path = join(localPaths(loadConfigFile(file)).alertsDir, 'alerts.jsonl');
  const log = await AlertLog.open(existsSync(path) ? path : null);
  const rows = log.list(filter).map((a) => ({
    time: a.time,
    state: a.state,
    detector: a.detector,
    site: a.site,
    subject: a.subject,
    text: a.text,
    notified: a.notified,
    note: a.note?.text ?? '',
  }));
  out(rows.length || format !== 'table' ? formatRows(rows, format) : 'no alerts match');
  return 0;
}
