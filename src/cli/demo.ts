import { describeStore } from '../store/open.js';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { newToken } from '../api/auth.js';
import { hashPassword } from '../auth/password.js';
import { loadConfigSource } from '../config/load.js';
import { DEMO_SEED_SITES, demoSource } from '../demo/config.js';
import { seedDemo } from '../demo/seed.js';
import { startDemoSite } from '../demo/site.js';
import { serve } from '../server.js';
import { parse, UsageError } from './args.js';

/** A whole number flag within [min, max], or a UsageError that names the flag. */
function wholeNumber(
  flag: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
  what: string,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${flag} "${value}": give ${what} from ${min} to ${max}`);
  return n;
}

const port = (flag: string, value: string | undefined, fallback: number): number =>
  wholeNumber(flag, value, fallback, 0, 65535, 'a port');

/** `balise demo`: gateway + demo website + a few weeks of seeded traffic; prints the URLs. */
export async function demoCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parse(argv, {
    port: { type: 'string' },
    'site-port': { type: 'string' },
    data: { type: 'string' },
    days: { type: 'string' },
  });
  const dataDir = resolve(values.data ?? './data/demo');
  const days = wholeNumber('days', values.days, 28, 1, 400, 'a number of days');
  // A fresh API token for this run only: printed once, its hash kept in the demo config.
  const { token, hash } = newToken();
  // And a dashboard password for this run, printed once (its scrypt hash in the demo config).
  const password = randomBytes(12).toString('base64url');
  const source = demoSource({
    dataDir,
    port: port('port', values.port, 8080),
    tokenHashes: [hash],
    passwordHash: hashPassword(password),
  });
  const config = loadConfigSource(source);
  const { gateway, url } = await serve(config, { log: out, baseDir: dataDir, source });
  const gatewayUrl = url.replace('127.0.0.1', 'localhost');
  out(`seeding ${days} days of demo traffic (first run only takes a few seconds)…`);
  let last = -1;
  const inserted = await seedDemo(gateway.store, DEMO_SEED_SITES, {
    days,
    timeZone: 'Europe/Paris',
    node: 'demo',
    progress: (done, total) => {
      const pct = Math.floor((100 * done) / total);
      if (process.stdout.isTTY && pct !== last) process.stdout.write(`\r  ${pct}%`);
      last = pct;
    },
  });
  if (process.stdout.isTTY) process.stdout.write('\r');
  const site = await startDemoSite({
    port: port('site-port', values['site-port'], 8081),
    host: '127.0.0.1',
    gatewayUrl,
    prefix: config.server.prefix,
  });
  const sitePort = (site.address() as AddressInfo).port;
  process.once('SIGINT', () => site.close());
  process.once('SIGTERM', () => site.close());
  out('');
  out('Balise demo is running');
  out(`  demo website    http://localhost:${sitePort}/   (open it, click around: every view is an event)`);
  out(`  dashboard       ${gatewayUrl}${config.server.prefix}/ui/   (password for this run: ${password})`);
  out(`  client script   ${gatewayUrl}${config.server.prefix}/s.js`);
  out(`  health          ${gatewayUrl}${config.server.prefix}/healthz`);
  out(`  store           ${describeStore(config)}  (+${inserted} seeded events)`);
  out(`  settings file   ${source.file}   (edited from the dashboard's Settings)`);
  out(
    `  insights API    ${gatewayUrl}${config.server.prefix}/api/v1/openapi.json   (token for this run: ${token})`,
  );
  out(
    `                  curl -s -H 'Authorization: Bearer ${token}' -H 'content-type: application/json' -d '{"group":"news","metric":"pageviews","interval":"1h","last":"24h","compare":"previous_week"}' ${gatewayUrl}${config.server.prefix}/api/v1/series`,
  );
  out('Press Ctrl+C to stop (accepted events are flushed to the store first).');
  return -1;
}
