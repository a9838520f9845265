import { writeFileSync, renameSync } from 'node:fs';
import { buildReport } from '../report/build.js';
import { renderHtml, renderMarkdown } from '../report/render.js';
import { parse, UsageError } from './args.js';
import { reportQueryError } from './query.js';
import { withStore } from './with-store.js';
import { argPath } from './terminal.js';

const USAGE =
  'usage: balise report --config balise.yaml --site HOST|--group NAME --from 2026-03-15 --to 2026-03-16 [--tz Europe/Paris] [--compare previous_week] [--metric requests] [--hour 20] [--format html|md|json] [--out report.html]';

/**
 * `balise report …`: one self-contained HTML file (or Markdown, or JSON) with the series against
 * the comparison, ranked spikes and dips, the region table at one local hour, mobile-share peaks,
 * attacks and shifts. Written atomically to --out, or to standard output.
 */
export async function reportCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parse(argv, {
    config: { type: 'string', short: 'c' },
    site: { type: 'string', multiple: true },
    group: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    tz: { type: 'string' },
    compare: { type: 'string' },
    metric: { type: 'string' },
    hour: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string', short: 'o' },
  });
  if (!values.config || !values.from || !values.to || (!values.site && !values.group))
    throw new UsageError(USAGE);
  const format =
    values.format ?? (values.out?.endsWith('.md') ? 'md' : values.out?.endsWith('.json') ? 'json' : 'html');
  if (format !== 'html' && format !== 'md' && format !== 'json')
    throw new UsageError(`--format must be html, md or json, not "${format}"`);
  const hour = values.hour === undefined ? undefined : Number(values.hour);
  if (hour !== undefined && !(Number.isInteger(hour) && hour >= 0 && hour <= 23))
    throw new UsageError('--hour must be a local hour from 0 to 23');
  return withStore(values.config, async (store, config) => {
    try {
      const report = await buildReport(store, config, {
        ...(values.group ? { group: values.group } : { sites: values.site!.flatMap((s) => s.split(',')) }),
        from: values.from!,
        to: values.to!,
        ...(values.tz ? { tz: values.tz } : {}),
        ...(values.compare ? { compare: values.compare } : {}),
        ...(values.metric ? { metric: values.metric } : {}),
        ...(hour !== undefined ? { hour } : {}),
      });
      const text =
        format === 'html'
          ? renderHtml(report)
          : format === 'md'
            ? renderMarkdown(report)
            : `${JSON.stringify(report, null, 2)}\n`;
      if (values.out) {
        const file = argPath(values.out);
        const temporary = `${file}.tmp-${process.pid}`;
        writeFileSync(temporary, text);
        renameSync(temporary, file);
        out(`wrote ${values.out} (${format}, ${report.series.length} ${report.interval} buckets)`);
      } else out(text.trimEnd());
      return 0;
    } catch (error) {
      return reportQueryError(error, out);
    }
  });
}
