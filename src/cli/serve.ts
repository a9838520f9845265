import { dirname } from 'node:path';
import { fileSource, loadConfigSource } from '../config/load.js';
import { serve } from '../server.js';
import { parse, UsageError } from './args.js';

/** `balise serve --config FILE`: runs the gateway until SIGTERM/SIGINT. */
export async function serveCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parse(argv, { config: { type: 'string', short: 'c' } });
  if (!values.config) throw new UsageError('usage: balise serve --config balise.yaml');
  const source = fileSource(values.config);
  const config = loadConfigSource(source);
  const { url } = await serve(config, { log: out, baseDir: dirname(source.file), source });
  out(`balise ${config.sites.length} site(s) on ${url}${config.server.prefix}/  (s.js, e, healthz)`);
  return -1;
}
