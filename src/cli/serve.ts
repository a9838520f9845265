import { dirname, resolve } from 'node:path';
import { loadConfigFile } from '../config/load.js';
import { serve } from '../server.js';
import { parse, UsageError } from './args.js';

/** `balise serve --config FILE`: runs the gateway until SIGTERM/SIGINT. */
export async function serveCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parse(argv, { config: { type: 'string', short: 'c' } });
  if (!values.config) throw new UsageError('usage: balise serve --config balise.yaml');
  const config = loadConfigFile(values.config);
  const { url } = await serve(config, { log: out, baseDir: dirname(resolve(values.config)) });
  out(`balise ${config.sites.length} site(s) on ${url}${config.server.prefix}/  (s.js, e, healthz)`);
  return -1;
}
