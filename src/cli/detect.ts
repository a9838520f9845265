import { DETECTOR_NAMES, runDetector } from '../insights/detectors/run.js';
import { parse, UsageError } from './args.js';
import { formatRows } from './output.js';
import { QUERY_OPTIONS, outputFormat, queryFromOptions, reportQueryError } from './query.js';
import { withStore } from './with-store.js';

const NUMBERS = ['limit', 'floor', 'factor', 'min-rps', 'threshold', 'ratio'] as const;

/**
 * `balise detect spikes|dips|anomalies|attacks|shifts|outages --config FILE --site S|--group G
 * --from … --to … [query options] [--limit N] [--floor N] [--factor N] [--min-rps N]
 * [--threshold N] [--ratio N] [--format table|json|csv]`. Shifts and outages use --breakdown as
 * the dimension (node, asn, region…).
 */
export async function detectCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || !(DETECTOR_NAMES as readonly string[]).includes(name)) {
    throw new UsageError(
      `usage: balise detect ${DETECTOR_NAMES.join('|')} --config balise.yaml --site HOST|--group NAME --from … --to …`,
    );
  }
  const options = Object.fromEntries(NUMBERS.map((n) => [n, { type: 'string' as const }]));
  const { values } = parse(rest, { ...QUERY_OPTIONS, ...options });
  if (!values.config) throw new UsageError(`usage: balise detect ${name} --config balise.yaml …`);
  const format = outputFormat(values.format);
  const body: Record<string, unknown> = queryFromOptions(values);
  for (const n of NUMBERS) {
    const raw = (values as Record<string, string | undefined>)[n];
    if (raw === undefined) continue;
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new UsageError(`--${n} must be a number, not "${raw}"`);
    body[n === 'min-rps' ? 'minRps' : n] = value;
  }
  return withStore(values.config, async (store, config) => {
    try {
      const { findings, tz, sites } = await runDetector(store, config, name, body);
      if (format === 'table')
        out(findings.length ? findings.map((f) => f.text).join('\n') : `no ${name} found`);
      else {
        const rows = findings.map(({ text: _text, ...fields }) =>
          Object.fromEntries(
            Object.entries(fields).map(([k, v]) => [
              k,
              typeof v === 'object' && v !== null ? JSON.stringify(v) : (v as string | number | null),
            ]),
          ),
        );
        out(format === 'json' ? JSON.stringify({ sites, tz, findings }, null, 2) : formatRows(rows, 'csv'));
      }
      return 0;
    } catch (error) {
      return reportQueryError(error, out);
    }
  });
}
