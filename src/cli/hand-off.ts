import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { loadConfigFile, localPaths } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { ControlMessage, ControlRequest } from '../server/control.js';
import { HANDED_OVER } from './handed-over.js';

/** The control socket of the gateway that runs on `config`'s spool (see server/control.ts). */
export function controlSocketPath(config: Config): string {
  return `${localPaths(config).spoolDir}.sock`;
}

/** The `--config` value on a command line, if any. */
function configArg(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--config' || arg === '-c') return argv[i + 1];
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
  }
  return undefined;
}

/**
 * Hands `balise COMMAND ARGV` to the gateway running on the same configuration, if one answers
 * on its control socket: its output and exit code become ours. Returns null when no gateway runs
 * there (the command then runs in this process) or the command line names no readable config
 * (the command says what is wrong).
 */
export async function handOff(
  command: string,
  argv: string[],
  io: { out: (line: string) => void; err: (text: string) => void },
): Promise<number | null> {
  const file = configArg(argv);
  if (!HANDED_OVER.has(command) || !file) return null;
  let config: Config;
  try {
    config = loadConfigFile(file);
  } catch {
    return null;
  }
  const request: ControlRequest = {
    command,
    argv,
    cwd: process.cwd(),
    stdoutTTY: Boolean(process.stdout.isTTY),
    stderrTTY: Boolean(process.stderr.isTTY),
  };
  return new Promise((resolve, reject) => {
    const socket = connect(controlSocketPath(config));
    let connected = false;
    let exit: number | null = null;
    socket.once('connect', () => {
      connected = true;
      createInterface({ input: socket }).on('line', (line) => {
        const message = JSON.parse(line) as ControlMessage;
        if ('out' in message) io.out(message.out);
        else if ('err' in message) io.err(message.err);
        else exit = message.exit;
      });
      socket.write(`${JSON.stringify(request)}\n`);
    });
    socket.once('error', (error) => {
      if (!connected) resolve(null);
      else reject(error);
    });
    socket.once('close', () => {
      if (!connected) return;
      if (exit === null) reject(new Error('the gateway closed the connection before the command ended'));
      else resolve(exit);
    });
  });
}
