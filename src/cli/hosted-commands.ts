import { ConfigError } from '../config/load.js';
import type { ControlMessage, ControlRequest } from '../server/control.js';
import { UsageError } from './args.js';
import { auditCommand } from './audit.js';
import { detectCommand } from './detect.js';
import { egressCommand, outboxCommand } from './egress.js';
import { importCommand } from './import.js';
import { queryCommand } from './query.js';
import { reportCommand } from './report.js';
import { storeCommand } from './store.js';
import { withTerminal, type Terminal } from './terminal.js';

const COMMANDS: Record<string, (argv: string[], out: (line: string) => void) => Promise<number>> = {
  import: importCommand,
  query: queryCommand,
  detect: detectCommand,
  report: reportCommand,
  egress: egressCommand,
  outbox: outboxCommand,
  audit: auditCommand,
  store: storeCommand,
};

/**
 * Runs a command handed over by `balise` (hand-off.ts) in this gateway's process, on its own
 * store, configuration and outbox (hosted.ts), its output sent back to the caller's terminal.
 */
export function runHandedOver(
  request: ControlRequest,
  send: (message: ControlMessage) => void,
  closed: AbortSignal = new AbortController().signal,
): Promise<number> {
  const term: Terminal = {
    stop: closed,
    err: (text) => send({ err: text }),
    stdoutTTY: request.stdoutTTY === true,
    stderrTTY: request.stderrTTY === true,
    cwd: typeof request.cwd === 'string' ? request.cwd : '/',
  };
  const command = COMMANDS[request.command];
  if (!command) {
    term.err(`error: a running gateway does not run "${request.command}"\n`);
    return Promise.resolve(2);
  }
  return withTerminal(term, async () => {
    try {
      return await command(
        request.argv.map((arg) => String(arg)),
        (line) => send({ out: line }),
      );
    } catch (error) {
      if (error instanceof UsageError) {
        term.err(`error: ${error.message}\n`);
        return 2;
      }
      if (error instanceof ConfigError) {
        term.err(`${error.message}\n`);
        return 2;
      }
      throw error;
    }
  });
}
