import { terminal } from './terminal.js';
import { BaliseError } from '../errors.js';
import { getSeries } from '../insights/getSeries.js';
import { parse, UsageError } from './args.js';
import { formatRows, type OutputFormat } from './output.js';
import { withStore } from './with-store.js';

/**
 * `balise query --config FILE --site S|--group G --metric M --interval 1h --from … --to … [--tz Z]
 * [--compare previous_week] [--breakdown D] [--property NAME] [--top N] [--filter key=value]…
 * [--format table|json|csv]`
 */
/** Options shared by `balise query` and `balise detect`. */
export const QUERY_OPTIONS = {
  config: { type: 'string', short: 'c' },
  site: { type: 'string', multiple: true },
  group: { type: 'string' },
  metric: { type: 'string' },
  interval: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  last: { type: 'string' },
  tz: { type: 'string' },
  compare: { type: 'string' },
  breakdown: { type: 'string' },
  property: { type: 'string' },
  top: { type: 'string' },
  filter: { type: 'string', multiple: true },
  format: { type: 'string' },
} as const;

type QueryValues = Partial<Record<Exclude<keyof typeof QUERY_OPTIONS, 'site' | 'filter'>, string>> & {
  site?: string[];
  filter?: string[];
};

/** Builds the query model's input from command-line values (validation is the model's). */
export function queryFromOptions(values: QueryValues): Record<string, unknown> {
  const filters: Record<string, string> = {};
  for (const item of values.filter ?? []) {
    const eq = item.indexOf('=');
    if (eq < 1) throw new UsageError(`--filter must look like key=value, not "${item}"`);
    filters[item.slice(0, eq)] = item.slice(eq + 1);
  }
  const input: Record<string, unknown> = {
    sites: values.site?.flatMap((s) => s.split(',')),
    group: values.group,
    metric: values.metric,
    interval: values.interval,
    from: values.from,
    to: values.to,
    last: values.last,
    tz: values.tz,
    compare: values.compare,
    breakdown: values.breakdown,
    property: values.property,
    top: values.top === undefined ? undefined : Number(values.top),
    filters,
  };
  for (const key of Object.keys(input)) if (input[key] === undefined) delete input[key];
  return input;
}

/** The output format: given, or a table on a terminal and JSON otherwise. */
export function outputFormat(value: string | undefined): OutputFormat {
  const format = value ?? (terminal().stdoutTTY ? 'table' : 'json');
  if (format !== 'table' && format !== 'json' && format !== 'csv') {
    throw new UsageError(`--format must be table, json or csv, not "${format}"`);
  }
  return format;
}

/** Prints a query error (400-style) and returns exit code 2, or rethrows anything else. */
export function reportQueryError(error: unknown, out: (line: string) => void): number {
  if (error instanceof BaliseError) {
    out(`error: ${error.path ? `${error.path}: ` : ''}${error.message}`);
    return 2;
  }
  throw error;
}

/**
 * `balise query --config FILE --site S|--group G --metric M --interval 1h --from … --to … [--tz Z]
 * [--compare previous_week] [--breakdown D] [--property NAME] [--top N] [--filter key=value]…
 * [--format table|json|csv]`
 */
export async function queryCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parse(argv, QUERY_OPTIONS);
  if (!values.config)
    throw new UsageError('usage: balise query --config balise.yaml --site HOST|--group NAME --from … --to …');
  const format = outputFormat(values.format);
  const input = queryFromOptions(values);
  return withStore(values.config, async (store, config) => {
    try {
      const result = await getSeries(store, config, input);
      out(
        formatRows(result.rows, format, { sites: result.sites, tz: result.tz, metric: result.query.metric }),
      );
      return 0;
    } catch (error) {
      return reportQueryError(error, out);
    }
  });
}
