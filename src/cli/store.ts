import { loadConfigFile } from '../config/load.js';
import { copyStore } from '../store/copy.js';
import { DuckDBStore } from '../store/duckdb/duckdb-store.js';
import { describeStore, openStore } from '../store/open.js';
import { parse, UsageError } from './args.js';
import { argPath, terminal } from './terminal.js';

const USAGE = 'usage: balise store copy --from OLD.duckdb --config balise.yaml';

/**
 * `balise store copy --from OLD.duckdb --config balise.yaml`: copies a DuckDB store's events and
 * egress log into the configured store (ClickHouse, when one machine is no longer enough), a day
 * at a time with progress; safe to run again and while gateways write to the target.
 */
export async function storeCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const [action, ...rest] = argv;
  if (action !== 'copy') throw new UsageError(USAGE);
  const { values } = parse(rest, {
    from: { type: 'string' },
    config: { type: 'string', short: 'c' },
  });
  if (!values.from || !values.config) throw new UsageError(USAGE);
  const config = loadConfigFile(values.config);
  const from = argPath(values.from);
  if (config.store.kind === 'duckdb' && config.store.path === from)
    throw new UsageError(
      '--from names the configured store itself; give the config of the store to copy into',
    );
  const source = await DuckDBStore.open(from).catch((error: unknown) => {
    throw new Error(
      /lock/i.test(String(error))
        ? `${from} is in use by a running gateway: stop the gateway that owns it before copying its data`
        : `cannot open ${from}: ${error instanceof Error ? error.message : String(error)}`,
    );
  });
  const target = await openStore(config);
  const term = terminal();
  try {
    await source.migrate();
    await target.migrate();
    out(`copying ${from} into ${describeStore(config)}`);
    const summary = await copyStore(source, target, (p) => {
      if (term.stderrTTY)
        term.err(`\r\u001b[2K  day ${p.day}/${p.days}  ${p.events.toLocaleString('en-US')} events`);
    });
    if (term.stderrTTY) term.err('\r\u001b[2K');
    out(
      `copied ${summary.events.toLocaleString('en-US')} events over ${summary.days} day(s): ` +
        `${summary.inserted.toLocaleString('en-US')} new, ${(summary.events - summary.inserted).toLocaleString('en-US')} already there; ` +
        `${summary.egress.toLocaleString('en-US')} egress records`,
    );
    return 0;
  } finally {
    await source.close();
    await target.close();
  }
}
