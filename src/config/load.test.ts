import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers.js';
import { ConfigError, loadConfigFile, parseConfig } from './load.js';

function problems(raw: unknown, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(raw, { env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

const site = { host: 'www.example.fr' };

describe('config', () => {
  it('applies every default and freezes the result', () => {
    const config = parseConfig({ sites: [site] }, { env: {}, baseDir: '/srv/balise' });
    expect(config.server).toMatchObject({
      host: '0.0.0.0',
      port: 8080,
      prefix: '/balise',
      trustedProxies: [],
      mode: 'production',
    });
    expect(config.store).toMatchObject({
      kind: 'duckdb',
      path: '/srv/balise/data/balise.duckdb',
      spoolDir: '/srv/balise/data/balise.duckdb.spool',
    });
    expect(config.outbox).toMatchObject({ dir: '/srv/balise/data/balise.duckdb.outbox', maxAttempts: 12 });
    expect(config.sites[0]).toEqual({
      host: 'www.example.fr',
      aliases: [],
      timezone: 'Europe/Paris',
      privacy: { profile: 'cnil-proxy' },
      consent: { purposes: [], gpc: ['marketing'] },
      triggers: [],
      tools: [],
      goals: [],
      funnels: [],
    });
    expect(Object.isFrozen(config.sites[0])).toBe(true);
    expect(() => {
      (config.server as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('rejects unknown keys with their path', () => {
    expect(problems({ sites: [{ ...site, colour: 'red' }], sever: {} }).sort()).toEqual([
      'sever: unknown key; remove it or fix its spelling (see schema/balise.schema.json)',
      'sites[0].colour: unknown key; remove it or fix its spelling (see schema/balise.schema.json)',
    ]);
  });

  it('lists every problem at once, each saying what to do', () => {
    const found = problems({
      server: { port: 99999, prefix: 'balise', trustedProxies: ['10.0.0.0/33'] },
      sites: [{ host: 'https://www.example.fr/', timezone: 'Europe/Pari' }],
    });
    expect(found).toHaveLength(5);
    expect(found).toContain(
      'server.trustedProxies[0]: must be an IP address or CIDR range such as 10.0.0.0/8',
    );
    expect(found).toContain('sites[0].timezone: must be an IANA time zone such as Europe/Paris');
    expect(found.find((p) => p.startsWith('sites[0].host:'))).toContain('without scheme');
    expect(found.find((p) => p.startsWith('server.prefix:'))).toContain('must start with /');
  });

  it('requires at least one site', () => {
    expect(problems({})).toEqual(['sites: required (array); add it']);
    expect(problems({ sites: [] })).toEqual(['sites: add at least one site']);
  });

  it('refuses a host that belongs to two sites', () => {
    expect(
      problems({ sites: [{ host: 'a.example', aliases: ['b.example'] }, { host: 'b.example' }] }),
    ).toEqual([
      'sites[1].host: host b.example already belongs to sites[0]; each host may belong to one site only',
    ]);
  });

  it('refuses privacy profile off unless the server runs in development mode', () => {
    const off = { host: 'a.example', privacy: { profile: 'off' } };
    expect(problems({ sites: [off] })[0]).toContain('profile off is refused in production');
    expect(problems({ server: { mode: 'development' }, sites: [off] })).toEqual([]);
  });

  it('accepts every privacy switch of docs/privacy.md and refuses loosening one under a CNIL profile', () => {
    const strict = {
      host: 'a.example',
      privacy: { query: 'strip', ip: 'hide', userAgent: 'remove', referrer: 'remove', dlp: 'drop' },
    };
    expect(problems({ sites: [strict] })).toEqual([]);
    // An allow-list keeps some parameters: looser than strip, so it needs profile custom.
    expect(problems({ sites: [{ host: 'a.example', privacy: { query: { allow: ['q'] } } }] })).toHaveLength(
      1,
    );
    expect(
      problems({ sites: [{ host: 'a.example', privacy: { profile: 'custom', query: { allow: ['q'] } } }] }),
    ).toEqual([]);
    expect(problems({ sites: [{ host: 'a.example', privacy: { query: 'keep', dlp: 'report' } }] })).toEqual([
      'sites[0].privacy.query: profile cnil-proxy requires query: "strip" or stricter; use profile: custom to loosen it',
      'sites[0].privacy.dlp: profile cnil-proxy requires dlp: "mask" or stricter; use profile: custom to loosen it',
    ]);
    expect(
      problems({
        sites: [{ host: 'a.example', privacy: { profile: 'custom', query: 'keep', dlp: 'report' } }],
      }),
    ).toEqual([]);
    expect(problems({ sites: [{ host: 'a.example', privacy: { ip: 'everything' } }] })[0]).toContain(
      'sites[0].privacy.ip',
    );
  });

  it('says what a tool lacks, and resolves a component path against the config folder', () => {
    expect(problems({ sites: [{ ...site, tools: [{ id: 'ga4' }] }] })).toEqual([
      'sites[0].tools[0].component: required (string); add it',
    ]);
    const config = parseConfig(
      { sites: [{ ...site, tools: [{ id: 'mine', component: './tools/mine.js' }] }] },
      { env: {}, baseDir: '/srv/balise' },
    );
    expect(config.sites[0]!.tools[0]!.component).toBe('/srv/balise/tools/mine.js');
  });

  it('takes secrets from the environment and from files, never from defaults', () => {
    const { dir, cleanup } = tempDir();
    writeFileSync(join(dir, 'node-name'), 'edge-par-1\n');
    const config = parseConfig(
      { server: { node: '${file:node-name}', host: '${BIND}' }, sites: [site] },
      { env: { BIND: '127.0.0.1' }, baseDir: dir },
    );
    expect(config.server.node).toBe('edge-par-1');
    expect(config.server.host).toBe('127.0.0.1');
    expect(problems({ server: { host: '${MISSING_VAR}' }, sites: [site] })).toContain(
      'server.host: environment variable MISSING_VAR is not set; set it or remove this value',
    );
    cleanup();
  });

  it('reports YAML syntax errors with line and column, and missing files', () => {
    const { dir, cleanup } = tempDir();
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'sites:\n  - host: a.example\n    aliases: [x\n');
    expect(() => loadConfigFile(file, {})).toThrow(/line \d+, column \d+: YAML syntax/);
    expect(() => loadConfigFile(join(dir, 'nope.yaml'), {})).toThrow(/file not found; check the path/);
    cleanup();
  });

  it('loads a file and resolves relative paths against the file’s folder', () => {
    const { dir, cleanup } = tempDir();
    const file = join(dir, 'balise.yaml');
    writeFileSync(
      file,
      'store: { kind: duckdb, path: ./db/b.duckdb }\nsites:\n  - host: www.example.fr\n    group: news\n',
    );
    const config = loadConfigFile(file, {});
    expect(config.store.kind === 'duckdb' && config.store.path).toBe(join(dir, 'db/b.duckdb'));
    expect(config.sites[0]?.group).toBe('news');
    cleanup();
  });
});

describe('store: kind clickhouse', () => {
  const problems = (store: Record<string, unknown>) => {
    try {
      parseConfig({ store, sites: [{ host: 'a.example' }] }, { env: {} });
      return [];
    } catch (error) {
      return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
    }
  };

  it('keeps this gateway’s spool and outbox under ./data, resolved against the file’s folder', () => {
    const config = parseConfig(
      {
        store: { kind: 'clickhouse', url: 'https://ch.example:8443', password: '${CH_PASSWORD}' },
        sites: [{ host: 'a.example' }],
      },
      { env: { CH_PASSWORD: 's3cret' }, baseDir: '/srv/balise' },
    );
    expect(config.store).toMatchObject({
      kind: 'clickhouse',
      url: 'https://ch.example:8443',
      database: 'balise',
      password: 's3cret',
      spoolDir: '/srv/balise/data/balise.spool',
    });
    expect(config.outbox.dir).toBe('/srv/balise/data/balise.outbox');
  });

  it('says what is wrong with a url, a database name or a cluster', () => {
    expect(problems({ kind: 'clickhouse' })[0]).toMatch(/^store\.url: /);
    expect(problems({ kind: 'clickhouse', url: 'ftp://ch.example' })[0]).toMatch(/^store\.url: /);
    expect(problems({ kind: 'clickhouse', url: 'http://ch.example', database: 'a-b; DROP' })).toEqual([
      'store.database: a database name: letters, digits and _, not starting with a digit',
    ]);
    expect(problems({ kind: 'clickhouse', url: 'http://ch.example', cluster: 'analytics' })[0]).toContain(
      'clusters (ON CLUSTER, Replicated and Distributed tables) are not supported yet',
    );
  });
});
