import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

/** What `balise COMMAND` sends a running gateway: the command line, its folder and terminal. */
export interface ControlRequest {
  command: string;
  argv: string[];
  cwd: string;
  stdoutTTY: boolean;
  stderrTTY: boolean;
}

/** One message back: a line of standard output, text for standard error, or the exit code. */
export type ControlMessage = { out: string } | { err: string } | { exit: number };

/** Runs a handed-over command, writing through `send`; resolves with its exit code. */
export type ControlHandler = (
  request: ControlRequest,
  send: (message: ControlMessage) => void,
  /** Aborted when the caller's connection closes (Ctrl-C on its side). */
  closed: AbortSignal,
) => Promise<number>;

/**
 * True when a process answers on the socket (a gateway running on these files), false when the
 * socket is absent or left by a process that died.
 */
export function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * The gateway's control socket: a Unix socket beside its spool, readable and writable by its own
 * user only (mode 0600), on which `balise import|query|report|detect|egress|outbox|audit` hand
 * their work to the running gateway instead of opening its store. One JSON line in (the request),
 * JSON lines out (output, then the exit code). Refuses to start when another process answers on
 * it: two gateways must never share a spool.
 */
export async function openControlSocket(
  path: string,
  handle: ControlHandler,
): Promise<{ close(): Promise<void> }> {
  if (existsSync(path)) {
    if (await socketAnswers(path))
      throw new Error(
        `another gateway runs on the same spool (${path} answers); give each gateway its own store.spoolDir`,
      );
    unlinkSync(path); // left by a process that died
  }
  mkdirSync(dirname(path), { recursive: true });
  const server: Server = createServer((socket: Socket) => {
    const lines = createInterface({ input: socket });
    const closed = new AbortController();
    socket.once('close', () => closed.abort());
    let started = false;
    lines.on('line', (line) => {
      if (started) return;
      started = true;
      const send = (message: ControlMessage) => {
        if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
      };
      let request: ControlRequest;
      try {
        request = JSON.parse(line) as ControlRequest;
        if (typeof request.command !== 'string' || !Array.isArray(request.argv))
          throw new Error('bad request');
      } catch {
        send({ err: 'error: the control socket takes one JSON request line\n' });
        send({ exit: 2 });
        socket.end();
        return;
      }
      handle(request, send, closed.signal).then(
        (code) => {
          send({ exit: code });
          socket.end();
        },
        (error: unknown) => {
          send({ err: `error: ${error instanceof Error ? error.message : String(error)}\n` });
          send({ exit: 1 });
          socket.end();
        },
      );
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if (existsSync(path)) unlinkSync(path);
      }),
  };
}
