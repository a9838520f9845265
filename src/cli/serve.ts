import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { fileSource, loadConfigSource } from '../config/load.js';
import type { Gateway } from '../gateway.js';
import { jsonLog } from '../log-format.js';
import { serve } from '../server.js';
import { openControlSocket } from '../server/control.js';
import { parse, UsageError } from './args.js';
import { controlSocketPath } from './hand-off.js';
import { hostCommands } from './hosted.js';

/**
 * `balise serve --config FILE`: runs the gateway until SIGTERM/SIGINT. Its control socket (beside
 * the spool) lets `balise import|query|report|detect|egress|outbox|audit` on the same
 * configuration run in this process, on its store, while it serves.
 */
export async function serveCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parse(argv, { config: { type: 'string', short: 'c' } });
  if (!values.config) throw new UsageError('usage: balise serve --config balise.yaml');
  const source = fileSource(values.config);
  const config = loadConfigSource(source);
  if (config.server.logFormat === 'json')
    out = jsonLog(config.server.node ?? hostname(), (text) => void process.stdout.write(text));
  let started: (gateway: Gateway) => void = () => undefined;
  const ready = new Promise<Gateway>((resolve) => (started = resolve));
  // Opened first: it refuses to start a second gateway on the same spool.
  const socketPath = controlSocketPath(config);
  // A Unix socket's path holds at most 107 bytes.
  const control =
    Buffer.byteLength(socketPath) > 100
      ? (out(
          `warning: ${socketPath} is too long a path for a Unix socket; commands beside this gateway cannot reach it (set a shorter store.spoolDir)`,
        ),
        { close: () => Promise.resolve() })
      : await openControlSocket(socketPath, async (request, send, closed) => {
          await ready;
          const { runHandedOver } = await import('./hosted-commands.js');
          return runHandedOver(request, send, closed);
        });
  let gateway: Gateway;
  let url: string;
  try {
    ({ gateway, url } = await serve(config, { log: out, baseDir: dirname(source.file), source }));
  } catch (error) {
    await control.close();
    throw error;
  }
  hostCommands({ store: gateway.store, config: () => gateway.live.current, outbox: gateway.outbox });
  started(gateway);
  process.once('exit', () => void control.close());
  out(`balise ${config.sites.length} site(s) on ${url}${config.server.prefix}/  (s.js, e, healthz)`);
  return -1;
}
