import { detectSeriesAnomalies } from '../insights/detectors/detectSeriesAnomalies.js';
import { detectSpikes } from '../insights/detectors/spikes.js';
import { parse, UsageError } from './args.js';
import { formatRows } from './output.js';
import { QUERY_OPTIONS, outputFormat, queryFromOptions, reportQueryError, withStore } from './query.js';

const DETECTORS = ['spikes', 'dips', 'anomalies'] as const;

/**
 * `balise detect spikes|dips --config FILE --site S|--group G --from … --to … [--compare …]
 * [--limit N] [--floor N] [--format table|json|csv]` — the other detectors come with issue 5.
 */
export async function detectCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || !(DETECTORS as readonly string[]).includes(name)) {
    throw new UsageError(
      `usage: balise detect ${DETECTORS.join('|')} --config balise.yaml --site HOST|--group NAME --from … --to …`,
    );
  }
  const { values } = parse(rest, { ...QUERY_OPTIONS, limit: { type: 'string' }, floor: { type: 'string' } });
  if (!values.config) throw new UsageError(`usage: balise detect ${name} --config balise.yaml …`);
  const format = outputFormat(values.format);
  const options = {
    direction: name === 'dips' ? ('dips' as const) : ('spikes' as const),
    ...(values.limit !== undefined ? { limit: Number(values.limit) } : {}),
    ...(values.floor !== undefined ? { floor: Number(values.floor) } : {}),
  };
  return withStore(values.config, async (store, config) => {
    try {
      if (name === 'anomalies') {
        const { anomalies, tz, sites } = await detectSeriesAnomalies(store, config, queryFromOptions(values));
        if (format === 'table')
          out(anomalies.length ? anomalies.map((a) => a.text).join('\n') : 'no anomaly');
        else
          out(
            formatRows(
              anomalies.map(({ text: _text, ...rest }) => rest),
              format,
              { sites, tz },
            ),
          );
        return 0;
      }
      const { spikes, tz, sites } = await detectSpikes(store, config, queryFromOptions(values), options);
      if (format === 'table')
        out(spikes.length ? spikes.map((s) => s.text).join('\n') : 'nothing above the floor');
      else
        out(
          formatRows(
            spikes.map(({ text: _text, ...rest }) => rest),
            format,
            { sites, tz },
          ),
        );
      return 0;
    } catch (error) {
      return reportQueryError(error, out);
    }
  });
}
