import { AsyncLocalStorage } from 'node:async_hooks';
import { resolve } from 'node:path';

/**
 * Where a command's output goes and what it runs beside: this process's terminal, or — for a
 * command a running gateway runs on behalf of `balise` (docs/scale.md, "Commands beside a running
 * gateway") — the terminal of the process that handed it over, its folder and its TTY flags.
 */
export interface Terminal {
  /** Writes text (no newline added) to standard error: progress bars, warnings. */
  err(text: string): void;
  stdoutTTY: boolean;
  stderrTTY: boolean;
  /** The folder relative paths on the command line are read against. */
  cwd: string;
  /**
   * Aborted when a command that runs until stopped (`import --follow`) should stop: Ctrl-C or
   * SIGTERM in this process; the caller's connection closing for a handed-over command.
   */
  readonly stop: AbortSignal;
}

let processStop: AbortController | undefined;

/** This process's stop signal, its SIGINT and SIGTERM handlers installed the first time it is asked. */
function stopOnSignals(): AbortSignal {
  if (!processStop) {
    const controller = (processStop = new AbortController());
    // Kept (not once): a Ctrl-C reaches both this process and the `balise` that started it,
    // which passes it on; a second one must not kill the command before it has written.
    const stop = () => controller.abort();
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  }
  return processStop.signal;
}

const PROCESS: Terminal = {
  err: (text) => void process.stderr.write(text),
  get stdoutTTY() {
    return Boolean(process.stdout.isTTY);
  },
  get stderrTTY() {
    return Boolean(process.stderr.isTTY);
  },
  get cwd() {
    return process.cwd();
  },
  get stop() {
    return stopOnSignals();
  },
};

const current = new AsyncLocalStorage<Terminal>();

/** The terminal of the command running now. */
export function terminal(): Terminal {
  return current.getStore() ?? PROCESS;
}

/** Runs `work` with `term` as its terminal. */
export function withTerminal<T>(term: Terminal, work: () => Promise<T>): Promise<T> {
  return current.run(term, work);
}

/** A path given on the command line, as the command's caller meant it. */
export function argPath(path: string): string {
  return resolve(terminal().cwd, path);
}
