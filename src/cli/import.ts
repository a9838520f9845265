import { loadConfigFile } from '../config/load.js';
import { FormatError } from '../import/formats/formats.js';
import { ImportError, importFiles } from '../import/import.js';
import { plainInputBytes, startEarly } from '../import/setup.js';
import { progressLine, summaryLines } from '../import/progress.js';
import { parse, UsageError } from './args.js';
import { printable } from './output.js';
import { hostedGateway } from './hosted.js';
import { withStore } from './with-store.js';
import { argPath, terminal } from './terminal.js';
import { FORMAT_HELP } from '../import/formats/formats.js';

/**
 * `balise import FILE… --config FILE --format F [--site HOST] [--tz ZONE] [--show-bad N] [--workers N] [--json]`:
 * a progress bar on a terminal (stderr), then a summary (or the summary as JSON with --json).
 * With `--follow` (one plain file), the file is followed as it grows until Ctrl-C or SIGTERM.
 */
export async function importCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      config: { type: 'string', short: 'c' },
      format: { type: 'string' },
      site: { type: 'string' },
      tz: { type: 'string' },
      'show-bad': { type: 'string' },
      workers: { type: 'string' },
      json: { type: 'boolean' },
      follow: { type: 'boolean' },
    },
    true,
  );
  if (!values.config || positionals.length === 0)
    throw new UsageError('usage: balise import FILE… --config balise.yaml --format combined [--site HOST]');
  if (!values.format) throw new UsageError(`--format is required: ${FORMAT_HELP}`);
  const showBad = values['show-bad'] === undefined ? 10 : Number(values['show-bad']);
  if (!Number.isInteger(showBad) || showBad < 0) throw new UsageError('--show-bad must be a whole number');
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 0 || workers > 8))
    throw new UsageError('--workers must be a whole number from 0 (no worker thread) to 8');
  // Config errors before the store is opened (a gateway running the command uses its own).
  const ownStore = !hostedGateway();
  const ownConfig = ownStore ? loadConfigFile(values.config) : null;
  const term = terminal();
  const tty = term.stderrTTY;
  const files = positionals.map(argPath);
  if (values.follow && files.length !== 1)
    throw new UsageError('--follow takes one file (the log being written)');
  const inputBytes = values.follow ? undefined : await plainInputBytes(files);
  const options = {
    format: values.format,
    showBad,
    ...(workers === undefined ? {} : { workers }),
    ...(inputBytes === undefined ? {} : { inputBytes }),
    ...(values.site ? { site: values.site } : {}),
    ...(values.tz ? { tz: values.tz } : {}),
  };
  // The workers start while the store is loaded and opened (a gateway has its store open).
  const early = ownConfig && !values.follow ? startEarly(ownConfig, options) : undefined;
  try {
    return await withStore(values.config, async (store, config) => {
      try {
        // Ctrl-C and SIGTERM stop following (handlers installed here), then the summary is printed.
        const signal = values.follow ? term.stop : undefined;
        if (signal) term.err(`following ${files[0]} (Ctrl-C to stop)\n`);
        const summary = signal
          ? await (
              await import('../import/follow.js')
            ).followFile(store, config, files[0]!, {
              ...options,
              signal,
              ownStore,
              onWrite: (s) => {
                const line = `following ${files[0]}: ${s.lines} lines read, ${s.imported} imported, ${s.badLines} bad`;
                if (tty) term.err(`\r\u001b[2K${line}`);
              },
            })
          : await importFiles(store, config, files, {
              ...options,
              ownStore,
              ...(early ? { early } : {}),
              ...(tty ? { onProgress: (p) => term.err(`\r\u001b[2K${progressLine(p)}`) } : {}),
            });
        if (tty) term.err('\r\u001b[2K');
        if (values.json) out(JSON.stringify(summary, null, 2));
        else for (const line of summaryLines(summary, (t) => printable(t))) out(line);
        return 0;
      } catch (error) {
        if (error instanceof ImportError || error instanceof FormatError) {
          out(`error: ${error.message}`);
          return 2;
        }
        throw error;
      }
    });
  } finally {
    await early?.close();
  }
}
