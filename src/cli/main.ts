#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { childEnv, useAllocatorDefaults } from '../config/child-env.js';
import { UsageError } from './args.js';
import { HANDED_OVER } from './handed-over.js';
import { IMPORT_ENV, IMPORT_FLAGS } from './import-node.js';
import { VERSION } from '../version.js';

// Each command's module is loaded when that command runs, so `balise --help` or `balise
// --version` loads none of them (the CLI answers at once).
const USAGE = `balise — first-party gateway and traffic insights

usage:
  balise serve --config balise.yaml      run the gateway
  balise demo [--port 8080] [--site-port 8081] [--data ./data/demo]
                                         gateway + demo website + seeded traffic; prints the URLs
  balise config check balise.yaml        list every problem in a config file, with the checks serve makes at start (exit 2 when any)
  balise query --config balise.yaml --site HOST|--group NAME --metric pageviews --interval 1h
               --from 2026-07-07T00:00 --to 2026-07-08T00:00 [--tz Europe/Paris] [--compare previous_week]
               [--breakdown country|property --property plan] [--top 10] [--filter key=value]… [--format table|json|csv]
  balise detect spikes|dips|anomalies|attacks|shifts|outages --config balise.yaml --site HOST|--group NAME --from … --to …
               [--compare previous_week] [--breakdown region] [--limit 10] [--floor 10] [--format …]
  balise import FILE… --config balise.yaml --format combined|common|nginx:NAME|jsonl:cloudflare|jsonl:NAME|dns-bind|dns-jsonl
               [--site HOST] [--tz Europe/Paris] [--show-bad 10] [--workers N] [--json] [--follow]
  balise report --config balise.yaml --site HOST|--group NAME --from 2026-03-15 --to 2026-03-16
               [--tz Europe/Paris] [--compare previous_week] [--metric requests] [--hour 20]
               [--format html|md|json] [--out report.html]
  balise alerts --config balise.yaml [--site HOST] [--detector anomalies|attacks|shifts|outages]
               [--since 2026-12-05T14:00Z] [--limit 100] [--format table|json|csv]
                                         the alert log, newest first (docs/alerts.md)
  balise egress --config balise.yaml [--site HOST] [--tool ID] [--outcome sent|retry|dead|blocked] [--since 24h]
               [--limit 100] [--format table|json|csv]
  balise outbox dead|replay --config balise.yaml [--tool ID] [--id DELIVERY]…
  balise audit --config balise.yaml [--since 30d | --from DATE --to DATE] [--format text|json|html] [--out FILE]
                                         the CNIL analytics-proxy conditions, per site and tool, with evidence (exit 1 when any fails)
  balise store copy --from FILE.duckdb --config balise.yaml
                                         copy a DuckDB store's events and egress log into the configured store (ClickHouse; a restore)
  balise store backup --config balise.yaml --out FILE.duckdb
                                         the configured store's events and egress log into a new DuckDB file, while the gateway runs
  printf '%s' '…' | balise password hash  the scrypt hash for admin.passwordHash (the dashboard login)
  balise token new                       a new API token and the hash for admin.tokens
  balise --version                       the version
`;

const out = (line: string): void => void process.stdout.write(`${line}\n`);
const err = (line: string): void => void process.stderr.write(`${line}\n`);

/**
 * Runs this command again in a Node started with `flags` and `env` added (a variable already
 * set keeps its value); its exit code is ours. SIGINT and SIGTERM sent to this process go to the
 * command (`import --follow` stops on them and prints its summary), and this process waits for
 * it to end.
 */
function rerunWith(
  flags: readonly string[],
  env: Readonly<Record<string, string>>,
  argv: string[],
): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, ...flags, process.argv[1]!, ...argv], {
    stdio: 'inherit',
    env: childEnv(env),
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

/** The lines of USAGE about one command (`balise import --help`), or null for an unknown one. */
function commandUsage(command: string): string | null {
  const lines = USAGE.split('\n');
  const out: string[] = [];
  let inside = false;
  for (const line of lines) {
    if (/^ {2}balise /.test(line))
      inside = line.startsWith(`  balise ${command} `) || line === `  balise ${command}`;
    else if (!/^ {3,}/.test(line)) inside = false;
    if (inside) out.push(line);
  }
  return out.length > 0 ? `usage:\n${out.join('\n')}` : null;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // `balise COMMAND --help`: that command's usage, whatever else is on the line.
  if (command && (rest.includes('--help') || rest.includes('-h'))) {
    const usage = commandUsage(command);
    if (usage) {
      out(usage);
      return 0;
    }
  }
  // An import runs in a Node started with its settings: the `balise` command (bin/balise) starts
  // it so; run another way, a Node is started for it here, before anything else is loaded (this
  // process only waits for it). That Node then hands it to a running gateway if there is one.
  if (command === 'import' && !IMPORT_FLAGS.every((flag) => process.execArgv.includes(flag)))
    return rerunWith(IMPORT_FLAGS, IMPORT_ENV, argv);
  // Before any command loads DuckDB (its allocator reads its settings then); after the import's
  // Node is started, which has settings of its own.
  useAllocatorDefaults();
  // A command on the store or outbox of a gateway that is running: the gateway runs it.
  if (command && HANDED_OVER.has(command)) {
    const { handOff } = await import('./hand-off.js');
    const code = await handOff(command, rest, { out, err: (text) => void process.stderr.write(text) });
    if (code !== null) return code;
  }
  switch (command) {
    case 'serve':
      return (await import('./serve.js')).serveCommand(rest, out);
    case 'demo':
      return (await import('./demo.js')).demoCommand(rest, out);
    case 'config':
      return (await import('./config-check.js')).configCheck(rest, out);
    case 'query':
      return (await import('./query.js')).queryCommand(rest, out);
    case 'detect':
      return (await import('./detect.js')).detectCommand(rest, out);
    case 'import':
      return (await import('./import.js')).importCommand(rest, out);
    case 'report':
      return (await import('./report.js')).reportCommand(rest, out);
    case 'egress':
      return (await import('./egress.js')).egressCommand(rest, out);
    case 'alerts':
      return (await import('./alerts.js')).alertsCommand(rest, out);
    case 'audit':
      return (await import('./audit.js')).auditCommand(rest, out);
    case 'outbox':
      return (await import('./egress.js')).outboxCommand(rest, out);
    case 'password':
      return (await import('./password.js')).passwordCommand(rest, out);
    case 'token':
      return (await import('./token.js')).tokenCommand(rest, out);
    case 'store':
      return (await import('./store.js')).storeCommand(rest, out);
    case '--version':
    case '-v':
    case 'version':
      out(`balise ${VERSION}`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      err(`error: ${error.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (error instanceof Error && error.name === 'ConfigError') {
      err(error.message);
      process.exitCode = 2;
    } else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      err(`error: ${(error as Error).message}; stop the other process or choose another port`);
      process.exitCode = 1;
    } else {
      err(`error: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    }
  },
);
