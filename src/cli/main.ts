#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { childEnv, IMPORT_ALLOCATOR_ENV, useAllocatorDefaults } from '../config/child-env.js';
import { UsageError } from './args.js';
import { HANDED_OVER } from './handed-over.js';
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
 * How an import runs, set when its Node starts (V8 and DuckDB's allocator read them only then):
 * - V8's collector on one thread: the import's worker threads keep every core busy, and the
 *   collector's helper threads then only add CPU (≈ 8 % faster on a million lines);
 * - young generations of 2 MB semi-spaces (V8 grows them to 16 MB) in the importing thread and
 *   each worker: ≈ 60 MB less at the peak on a million lines, at the same speed
 *   (`--optimize-for-size` took 30 MB more off but cost ≈ 8 % of the speed);
 * - an old generation let grow by 20 % of what a full collection kept before the next one (V8
 *   grows it up to 4×): a worker keeps ≈ 15 MB, but the memo entries it replaces get promoted
 *   first, and its old space reached 40 MB between collections (≈ 25 MB less at the peak);
 * - DuckDB's allocator (jemalloc) with one arena, keeping freed pages 5 ms (`IMPORT_ALLOCATOR_ENV`;
 *   other commands hand them back at once, `useAllocatorDefaults`): ≈ 15–20 % less time;
 * - one malloc arena (glibc otherwise makes one per thread that allocates, up to 8 per core,
 *   each keeping its freed memory: ≈ 30 MB less; V8's heaps and DuckDB's memory are not malloc's,
 *   so sharing one arena costs no speed).
 * A variable the user set keeps its value. BENCHMARKS.md has the figures.
 */
const IMPORT_FLAGS = ['--single-threaded-gc', '--max-semi-space-size=2', '--heap-growing-percent=20'];
const IMPORT_ENV = { MALLOC_ARENA_MAX: '1', ...IMPORT_ALLOCATOR_ENV };

/**
 * Runs this command again in a Node started with `flags` and `env` added (a variable already
 * set keeps its value); its exit code is ours. SIGINT and SIGTERM sent to this process go to the
 * command (`import --follow` stops on them and prints its summary), and this process waits for
 * it to end.
 */
function rerunWith(flags: readonly string[], env: Record<string, string>, argv: string[]): Promise<number> {
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
  // An import runs in a Node started for it, before anything else is loaded here (this process
  // only waits for it); that Node then hands it to a running gateway if there is one.
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
