import { loadConfigFile } from '../config/load.js';
import { BaliseError } from '../errors.js';
import { getSeries } from '../insights/getSeries.js';
import { openStore } from '../store/open.js';
import { parse, UsageError } from './args.js';
import { formatRows, type OutputFormat } from './output.js';

/**
 * `balise query --config FILE --site S|--group G --metric M --interval 1h --from … --to … [--tz Z]
 * [--compare previous_week] [--breakdown D] [--top N] [--filter key=value]… [--format table|json|csv]`
 */
export async function queryCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parse(argv, {
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
    top: { type: 'string' },
    filter: { type: 'string', multiple: true },
    format: { type: 'string' },
  });
  if (!values.config)
    throw new UsageError('usage: balise query --config balise.yaml --site HOST|--group NAME --from … --to …');
  const format = (values.format ?? (process.stdout.isTTY ? 'table' : 'json')) as OutputFormat;
  if (!['table', 'json', 'csv'].includes(format))
    throw new UsageError(`--format must be table, json or csv, not "${format}"`);
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
    top: values.top === undefined ? undefined : Number(values.top),
    filters,
  };
  for (const key of Object.keys(input)) if (input[key] === undefined) delete input[key];

  const config = loadConfigFile(values.config);
  const store = await openStore(config).catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    if (/lock/i.test(message)) {
      throw new Error(
        `the store ${config.store.path} is in use by a running gateway; stop it first (the HTTP API comes with the insights API)`,
      );
    }
    throw error;
  });
  try {
    await store.migrate();
    const result = await getSeries(store, config, input);
    out(formatRows(result.rows, format, { sites: result.sites, tz: result.tz, metric: result.query.metric }));
    return 0;
  } catch (error) {
    if (error instanceof BaliseError) {
      out(`error: ${error.path ? `${error.path}: ` : ''}${error.message}`);
      return 2;
    }
    throw error;
  } finally {
    await store.close();
  }
}
