import { Outbox } from '../tools/outbox.js';
import { queryEgress } from '../tools/egress-query.js';
import { loadConfigFile, localPaths } from '../config/load.js';
import { parse, UsageError } from './args.js';
import { hostedGateway } from './hosted.js';
import { formatRows } from './output.js';
import { outputFormat, reportQueryError } from './query.js';
import { withStore } from './with-store.js';

/** `balise egress --config FILE [--site S] [--tool T] [--outcome sent|retry|dead|blocked] [--since 24h] [--limit 100] [--format …]`. */
export async function egressCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parse(argv, {
    config: { type: 'string', short: 'c' },
    site: { type: 'string' },
    tool: { type: 'string' },
    outcome: { type: 'string' },
    since: { type: 'string' },
    limit: { type: 'string' },
    format: { type: 'string' },
  });
  if (!values.config)
    throw new UsageError('usage: balise egress --config balise.yaml [--tool ga4] [--since 1h]');
  const format = outputFormat(values.format);
  return withStore(values.config, async (store) => {
    try {
      const { config: _config, format: _format, ...filters } = values;
      const rows = await queryEgress(store, filters);
      out(rows.length || format !== 'table' ? formatRows(rows as never, format) : 'no egress records match');
      return 0;
    } catch (error) {
      return reportQueryError(error, out);
    }
  });
}

/**
 * `balise outbox dead --config FILE [--tool T]` lists dead letters (vendor status and message);
 * `balise outbox replay --config FILE [--tool T] [--id ID]…` queues them again. The outbox journal
 * belongs to one process: while the gateway runs, it runs the command on its own outbox.
 */
export async function outboxCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const [action, ...rest] = argv;
  if (action !== 'dead' && action !== 'replay')
    throw new UsageError(
      'usage: balise outbox dead|replay --config balise.yaml [--tool ID] [--id DELIVERY]…',
    );
  const { values } = parse(rest, {
    config: { type: 'string', short: 'c' },
    tool: { type: 'string' },
    id: { type: 'string', multiple: true },
    format: { type: 'string' },
  });
  if (!values.config) throw new UsageError(`usage: balise outbox ${action} --config balise.yaml`);
  const hosted = hostedGateway();
  const config = hosted ? hosted.config() : loadConfigFile(values.config);
  const outbox =
    hosted?.outbox ?? (await Outbox.open(localPaths(config).outboxDir, config.outbox, { deliver: false }));
  try {
    if (action === 'dead') {
      const rows = outbox
        .deadLetters()
        .filter((l) => !values.tool || l.delivery.tool === values.tool)
        .map((l) => ({
          id: l.delivery.id,
          site: l.delivery.site,
          tool: l.delivery.tool,
          host: new URL(l.delivery.request.url).host,
          status: l.status,
          message: l.message,
          at: new Date(l.at).toISOString(),
        }));
      out(rows.length ? formatRows(rows, outputFormat(values.format)) : 'no dead letters');
    } else {
      const count = await outbox.replay({
        ...(values.tool ? { tool: values.tool } : {}),
        ...(values.id ? { ids: values.id } : {}),
      });
      out(
        `queued ${count} dead letter(s) again; ${hosted ? 'the running gateway sends them now' : 'the gateway sends them when it starts'}`,
      );
    }
    return 0;
  } finally {
    if (!hosted) await outbox.close();
  }
}
