import { resolve } from 'node:path';
import { parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { PROFILES, type SeedSite } from './seed.js';

/** Sites seeded with a few weeks of traffic; the first is the live demo website. */
export const DEMO_SEED_SITES: readonly SeedSite[] = [
  { host: 'localhost', peakPerHour: 240, profile: PROFILES.news },
  { host: 'www.quotidien-demo.fr', peakPerHour: 400, profile: PROFILES.news },
  { host: 'www.tele-demo.fr', peakPerHour: 300, profile: PROFILES.tv },
];

/** The demo configuration: embedded DuckDB under `dataDir`, three sites in two groups. */
export function demoConfig(options: {
  dataDir: string;
  port: number;
  tokenHashes?: string[];
  /** scrypt hash of this run's dashboard password. */
  passwordHash?: string;
}): Config {
  return parseConfig(
    {
      server: { host: '127.0.0.1', port: options.port, mode: 'development', node: 'demo' },
      store: { kind: 'duckdb', path: resolve(options.dataDir, 'balise.duckdb') },
      admin: {
        tokens: options.tokenHashes ?? [],
        ...(options.passwordHash ? { passwordHash: options.passwordHash } : {}),
      },
      sites: [
        { host: 'localhost', aliases: ['127.0.0.1'], group: 'news' },
        { host: 'www.quotidien-demo.fr', group: 'news' },
        { host: 'www.tele-demo.fr', group: 'tv' },
      ],
    },
    { source: 'demo', env: {} },
  );
}
