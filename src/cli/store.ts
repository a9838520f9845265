import { existsSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { loadConfigFile } from '../config/load.js';
import { copyStore, type CopyProgress } from '../store/copy.js';
import { DuckDBStore } from '../store/duckdb/duckdb-store.js';
import { describeStore, openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { parse, UsageError } from './args.js';
import { hostedGateway } from './hosted.js';
import { argPath, terminal } from './terminal.js';
import { groupDigits } from '../digits.js';

const USAGE =
  'usage: balise store copy --from FILE.duckdb --config balise.yaml | balise store backup --config balise.yaml --out FILE.duckdb';

/** Opens a DuckDB file other than the configured store, saying what to do when a gateway holds it. */
async function openFile(path: string): Promise<DuckDBStore> {
  const store = await DuckDBStore.open(path).catch((error: unknown) => {
    throw new Error(
      /lock/i.test(String(error))
        ? `${path} is in use by a running gateway: stop the gateway that owns it first`
        : `cannot open ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  });
  await store.migrate();
  return store;
}

/**
 * The configured store, and whether this command opened it: in a gateway's process (the command
 * handed over by `balise`) it is the gateway's own, left open.
 */
async function configuredStore(
  configPath: string,
): Promise<{ config: Config; store: Store; owned: boolean }> {
  const hosted = hostedGateway();
  if (hosted) return { config: hosted.config(), store: hosted.store, owned: false };
  const config = loadConfigFile(configPath);
  const store = await openStore(config);
  await store.migrate();
  return { config, store, owned: true };
}

/** Copies with a progress line on a terminal; returns the summary line. */
async function copyWithProgress(source: Store, target: Store): Promise<string> {
  const term = terminal();
  const summary: CopyProgress = await copyStore(source, target, (p) => {
    if (term.stderrTTY) term.err(`\r\u001b[2K  day ${p.day}/${p.days}  ${groupDigits(p.events)} events`);
  });
  if (term.stderrTTY) term.err('\r\u001b[2K');
  return (
    `copied ${groupDigits(summary.events)} events over ${summary.days} day(s): ` +
    `${groupDigits(summary.inserted)} new, ${groupDigits(summary.events - summary.inserted)} already there; ` +
    `${groupDigits(summary.egress)} egress records`
  );
}

/**
 * `balise store copy --from FILE.duckdb --config balise.yaml`: copies a DuckDB store's events and
 * egress log into the configured store (into ClickHouse when one machine is no longer enough, or
 * a backup back into the store: a restore), a day at a time with progress; safe to run again and
 * while gateways write to the target.
 * `balise store backup --config balise.yaml --out FILE.duckdb`: the same copy the other way, from
 * the configured store (DuckDB or ClickHouse) into a new DuckDB file, while the gateway runs.
 * Both run in the gateway when one serves the configuration (its store is then theirs).
 */
export async function storeCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const [action, ...rest] = argv;
  if (action !== 'copy' && action !== 'backup') throw new UsageError(USAGE);
  const { values } = parse(rest, {
    from: { type: 'string' },
    out: { type: 'string', short: 'o' },
    config: { type: 'string', short: 'c' },
  });
  if (!values.config) throw new UsageError(USAGE);
  const file = action === 'copy' ? values.from : values.out;
  if (!file)
    throw new UsageError(action === 'copy' ? `--from is required: ${USAGE}` : `--out is required: ${USAGE}`);
  const path = argPath(file);
  if (action === 'backup' && existsSync(path))
    throw new UsageError(`--out ${file} exists; name a new file (a backup never overwrites)`);
  const { config, store, owned } = await configuredStore(argPath(values.config));
  try {
    if (config.store.kind === 'duckdb' && config.store.path === path)
      throw new UsageError(`--${action === 'copy' ? 'from' : 'out'} names the configured store itself`);
    const other = await openFile(path);
    try {
      if (action === 'copy') {
        out(`copying ${path} into ${describeStore(config)}`);
        out(await copyWithProgress(other, store));
      } else {
        out(`backing up ${describeStore(config)} into ${path}`);
        out(await copyWithProgress(store, other));
        out(`restore with: balise store copy --from ${file} --config …`);
      }
      return 0;
    } finally {
      await other.close();
    }
  } finally {
    if (owned) await store.close();
  }
}
