import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileSource, type ConfigSource } from '../config/load.js';
import { PROFILES, type SeedSite } from './seed.js';

/** Sites seeded with a few weeks of traffic; the first is the live demo website. */
export const DEMO_SEED_SITES: readonly SeedSite[] = [
  { host: 'localhost', peakPerHour: 240, profile: PROFILES.news },
  { host: 'www.quotidien-demo.fr', peakPerHour: 400, profile: PROFILES.news },
  { host: 'www.tele-demo.fr', peakPerHour: 300, profile: PROFILES.tv },
];

/** The demo's sites file, written on the first run; the dashboard's settings edit it afterwards. */
const DEMO_SITES_YAML = `# Balise demo: the sites of \`balise demo\`. The dashboard's Settings page edits this file
# (a backup of each previous version is kept beside it). server, store and admin are set by
# \`balise demo\` for each run; remove this file to start again from the demo's defaults.
sites:
  - host: localhost
    aliases: [127.0.0.1]
    group: news
  - host: www.quotidien-demo.fr
    group: news
    goals:
      - { name: Home page, path: / }
      - { name: Read an article, path: /*/article-* }
    funnels:
      - { name: Home to article, steps: [Home page, Read an article] }
  - host: www.tele-demo.fr
    group: tv
`;

/**
 * The demo configuration source: `DATA/balise.yaml` holds the sites (created on the first run),
 * and each run overlays its own server (127.0.0.1, development mode), store (DuckDB under
 * `dataDir`) and admin (this run's token and password hashes).
 */
export function demoSource(options: {
  dataDir: string;
  port: number;
  tokenHashes?: string[];
  /** scrypt hash of this run's dashboard password. */
  passwordHash?: string;
}): ConfigSource {
  const file = resolve(options.dataDir, 'balise.yaml');
  mkdirSync(options.dataDir, { recursive: true });
  if (!existsSync(file)) writeFileSync(file, DEMO_SITES_YAML, { flag: 'wx' });
  return fileSource(file, (raw) => ({
    ...raw,
    server: { host: '127.0.0.1', port: options.port, mode: 'development', node: 'demo' },
    store: { kind: 'duckdb', path: resolve(options.dataDir, 'balise.duckdb') },
    admin: {
      tokens: options.tokenHashes ?? [],
      ...(options.passwordHash ? { passwordHash: options.passwordHash } : {}),
    },
  }));
}
