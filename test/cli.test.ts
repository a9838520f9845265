import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const temp = tempDir();
afterAll(() => temp.cleanup());

function balise(...args: string[]) {
  const result = spawnSync(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8' });
  return { code: result.status, out: result.stdout + result.stderr };
}

describe('balise config check', () => {
  it('exits 0 and names the sites of a valid file', () => {
    const file = join(temp.dir, 'ok.yaml');
    writeFileSync(file, 'sites:\n  - host: www.example.fr\n    group: news\n');
    const { code, out } = balise('config', 'check', file);
    expect(code).toBe(0);
    expect(out).toContain('1 site(s): www.example.fr');
  });

  it('lists every problem with its path and exits 2', () => {
    const file = join(temp.dir, 'bad.yaml');
    writeFileSync(
      file,
      'server:\n  port: "eighty"\n  colour: red\nsites:\n  - host: www.example.fr\n    timezone: Mars/Olympus\n',
    );
    const { code, out } = balise('config', 'check', file);
    expect(code).toBe(2);
    expect(out).toContain('3 problem(s)');
    expect(out).toContain('server.port:');
    expect(out).toContain('server.colour: unknown key');
    expect(out).toContain('sites[0].timezone: must be an IANA time zone');
  });

  it('runs the checks serve runs at start: Meta under region eu is refused, as serve refuses it', () => {
    const file = join(temp.dir, 'meta.yaml');
    writeFileSync(
      file,
      'sites:\n  - host: www.example.fr\n    tools:\n      - { id: meta, component: meta, settings: { pixelId: "42", accessToken: t } }\n',
    );
    const { code, out } = balise('config', 'check', '--config', file);
    expect(code).toBe(2);
    expect(out).toMatch(
      /sites\[www\.example\.fr\]\.tools\[meta\]: .* has no EU endpoint; region: eu cannot be met/,
    );
    writeFileSync(
      file,
      'sites:\n  - host: www.example.fr\n    tools:\n      - { id: meta, component: meta, region: any, settings: { pixelId: "42", accessToken: t } }\n',
    );
    expect(balise('config', 'check', file).code).toBe(0);
  });

  it('loads a Cloudflare-shaped bundle in its sandbox as serve would: what it requires, what it lacks', () => {
    const bundle = fileURLToPath(new URL('./components/ga4-like/dist/index.js', import.meta.url));
    const file = join(temp.dir, 'bundle.yaml');
    const tool = (extra: string) =>
      `sites:\n  - host: www.example.fr\n    tools:\n      - { id: g, component: ${JSON.stringify(bundle)}, settings: { tid: G-TEST1234 }${extra} }\n`;
    writeFileSync(file, tool(''));
    const ok = balise('config', 'check', file);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(
      /warning: sites\[www\.example\.fr\]\.tools\[g\]: GA4-like \(test\) names no host it may send to/,
    );
    writeFileSync(file, tool(', permissions: [server_network_requests]'));
    const lacking = balise('config', 'check', file);
    expect(lacking.code).toBe(2);
    expect(lacking.out).toContain(
      'GA4-like (test) requires the access_client_kv permission; add it to permissions',
    );
  });

  it('prints the usage of one command with --help, and names the flag of a bad value', () => {
    const help = balise('import', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^usage:\n {2}balise import FILE…/);
    expect(help.out).toContain('--show-bad');
    expect(help.out).not.toContain('balise report');
    const config = balise('config', '--help');
    expect(config.out).toContain('balise config check');
    const days = balise('demo', '--days', 'x');
    expect(days.code).toBe(2);
    expect(days.out).toContain('--days "x": give a number of days from 1 to 400');
  });

  it('prints its version', () => {
    const { code, out } = balise('--version');
    expect(code).toBe(0);
    expect(out.trim()).toMatch(/^balise \d+\.\d+\.\d+$/);
  });

  it('explains usage errors with exit 2', () => {
    expect(balise('config').code).toBe(2);
    const { code, out } = balise('frobnicate');
    expect(code).toBe(2);
    expect(out).toContain('unknown command "frobnicate"');
  });

  it('refuses serve without --config', () => {
    const { code, out } = balise('serve');
    expect(code).toBe(2);
    expect(out).toContain('usage: balise serve --config');
  });
});

describe('balise query', () => {
  it('prints a series as JSON and CSV from a real DuckDB file, and explains a bad query with exit 2', async () => {
    const { DuckDBStore } = await import('../src/store/duckdb/duckdb-store.js');
    const { blankRow } = await import('../src/store/row.js');
    const { deterministicId } = await import('../src/store/ids.js');
    const db = join(temp.dir, 'q.duckdb');
    const store = await DuckDBStore.open(db);
    await store.migrate();
    const ts = Date.UTC(2026, 6, 7, 18, 30); // 20:30 in Paris
    await store.append(
      Array.from({ length: 3 }, (_, i) =>
        blankRow({
          id: deterministicId(ts, String(i)),
          ts,
          site: 'www.example.fr',
          type: 'pageview',
          source: 'import',
          country: i ? 'FR' : '=cmd',
        }),
      ),
    );
    await store.close();
    const file = join(temp.dir, 'q.yaml');
    writeFileSync(file, `store: { kind: duckdb, path: ${db} }\nsites: [{ host: www.example.fr }]\n`);
    const base = [
      'query',
      '--config',
      file,
      '--site',
      'www.example.fr',
      '--interval',
      '1h',
      '--from',
      '2026-07-07T20:00',
      '--to',
      '2026-07-07T22:00',
    ];
    const json = balise(...base, '--format', 'json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({
      tz: 'Europe/Paris',
      rows: [
        { time: '2026-07-07T20:00:00+02:00', value: 3 },
        { time: '2026-07-07T21:00:00+02:00', value: 0 },
      ],
    });
    const csv = balise(...base, '--breakdown', 'country', '--format', 'csv');
    expect(csv.out.split('\n').slice(0, 3)).toEqual([
      'time,country,label,value',
      '2026-07-07T20:00:00+02:00,FR,France,2',
      "2026-07-07T20:00:00+02:00,'=cmd,,1",
    ]);
    const detect = balise('detect', 'spikes', ...base.slice(1), '--floor', '1', '--format', 'json');
    expect(detect.code).toBe(0);
    expect(JSON.parse(detect.out)).toMatchObject({ tz: 'Europe/Paris', findings: [] });
    expect(balise('detect', 'magic', '--config', file).code).toBe(2);
    const bad = balise(...base, '--metric', 'money');
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('metric:');
  });
});

describe('balise password hash', () => {
  it('hashes a password read from standard input, never from the command line', async () => {
    const { verifyPassword } = await import('../src/auth/password.js');
    const ok = spawnSync(process.execPath, ['dist/cli/main.js', 'password', 'hash'], {
      input: 'a long dashboard password\n',
      encoding: 'utf8',
    });
    expect(ok.status).toBe(0);
    const hash = ok.stdout.trim();
    expect(hash).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect(await verifyPassword('a long dashboard password', hash)).toBe(true);
    expect(await verifyPassword('a long dashboard passworD', hash)).toBe(false);
    const short = spawnSync(process.execPath, ['dist/cli/main.js', 'password', 'hash'], {
      input: 'short',
      encoding: 'utf8',
    });
    expect(short.status).toBe(2);
    expect(short.stderr).toContain('at least 12 characters');
  });
});

describe('balise import', () => {
  it('imports a log through the built worker threads (one bundled file) and prints the summary as JSON', async () => {
    const db = join(temp.dir, 'import.duckdb');
    const config = join(temp.dir, 'import.yaml');
    writeFileSync(config, `store: { kind: duckdb, path: ${db} }\nsites: [{ host: www.example.fr }]\n`);
    const log = join(temp.dir, 'access.log');
    const ua =
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36';
    writeFileSync(
      log,
      Array.from(
        { length: 500 },
        (_, i) =>
          `203.0.113.${i % 50} - - [07/Jul/2026:20:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')} +0200] "GET /article/${i % 7}?utm_source=x HTTP/1.1" 200 ${i} "https://www.google.fr/" "${ua}"`,
      ).join('\n') + '\nnot a log line\n',
    );
    const run = () =>
      balise(
        'import',
        log,
        '--config',
        config,
        '--format',
        'combined',
        '--site',
        'www.example.fr',
        '--workers',
        '2',
        '--json',
      );
    const { code, out } = run();
    expect(code).toBe(0);
    const summary = JSON.parse(out.slice(out.indexOf('{'))) as Record<string, unknown>;
    expect(summary).toMatchObject({ lines: 501, imported: 500, badLines: 1, duplicates: 0 });
    expect(run().out).toContain('"duplicates": 500');
    const { DuckDBStore } = await import('../src/store/duckdb/duckdb-store.js');
    const store = await DuckDBStore.open(db);
    const rows = await store.query<{
      n: number;
      paths: number;
      mobile: number;
      google: number;
      host: string;
    }>(
      `SELECT count(*) AS n, count(DISTINCT path) AS paths, count(*) FILTER (device_type = 'mobile') AS mobile,
              count(*) FILTER (referrer_class = 'search') AS google, min(referrer_host) AS host FROM events`,
    );
    await store.close();
    expect(rows[0]).toEqual({ n: 500, paths: 7, mobile: 500, google: 500, host: 'www.google.fr' });
  });

  it('stops the worker threads it started early when the store cannot be opened or the site is unknown', () => {
    // The workers start while the store opens: a store that fails must not leave them running
    // (the process would never exit: spawnSync's timeout then ends it, and the status is null).
    const notDuckDB = join(temp.dir, 'not-a-database.duckdb');
    writeFileSync(notDuckDB, 'this is not a DuckDB file\n'.repeat(1_000));
    const config = join(temp.dir, 'broken-store.yaml');
    writeFileSync(config, `store: { kind: duckdb, path: ${notDuckDB} }\nsites: [{ host: www.example.fr }]\n`);
    const log = join(temp.dir, 'one.log');
    writeFileSync(log, '203.0.113.9 - - [07/Jul/2026:20:00:00 +0200] "GET / HTTP/1.1" 200 1 "-" "curl/8"\n');
    const run = (site: string, configFile: string) => {
      const args = ['import', log, '--config', configFile, '--format', 'combined', '--site', site];
      const result = spawnSync(process.execPath, ['dist/cli/main.js', ...args, '--workers', '2'], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      return { code: result.status, out: result.stdout + result.stderr };
    };
    const broken = run('www.example.fr', config);
    expect(broken.code).not.toBeNull();
    expect(broken.code).not.toBe(0);
    expect(broken.out).toMatch(/not a valid DuckDB database|IO Error|Serialization/i);
    const good = join(temp.dir, 'site-check.yaml');
    writeFileSync(
      good,
      `store: { kind: duckdb, path: ${join(temp.dir, 'site-check.duckdb')} }\nsites: [{ host: www.example.fr }]\n`,
    );
    const unknown = run('www.other.example', good);
    expect(unknown).toEqual({
      code: 2,
      out: expect.stringContaining('--site www.other.example is not a configured site') as string,
    });
  });
});

describe('balise alerts', () => {
  it('lists the alert log newest first, with filters and notes, and names a bad flag', () => {
    const dir = join(temp.dir, 'alerts');
    mkdirSync(dir, { recursive: true });
    const file = join(temp.dir, 'alerts.yaml');
    writeFileSync(file, `alerts: { dir: ${dir} }\nsites:\n  - host: www.example.fr\n`);
    const alert = (id: string, detector: string, time: string, text: string) => ({
      id,
      episode: `${detector}|www.example.fr|x`,
      state: 'start',
      detector,
      site: 'www.example.fr',
      subject: 'x',
      time,
      at: time,
      text,
      notified: 'sent',
    });
    writeFileSync(
      join(dir, 'alerts.jsonl'),
      [
        alert('a1', 'anomalies', '2026-12-05T10:00:00.000Z', 'pageviews per minute 60'),
        alert('a2', 'attacks', '2026-12-05T11:00:00.000Z', '/login 100 rps peak'),
        { noteOn: 'a2', text: 'a load test', at: '2026-12-05T11:05:00.000Z' },
      ]
        .map((line) => JSON.stringify(line))
        .join('\n') + '\n',
    );
    const all = balise('alerts', '--config', file);
    expect(all.code).toBe(0);
    expect(all.out.indexOf('/login 100 rps peak')).toBeLessThan(all.out.indexOf('pageviews per minute 60'));
    const json = balise('alerts', '--config', file, '--detector', 'attacks', '--format', 'json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({ rows: [{ detector: 'attacks', note: 'a load test' }] });
    expect(balise('alerts', '--config', file, '--since', '2026-12-05T10:30Z').out).not.toContain('pageviews');
    const bad = balise('alerts', '--config', file, '--limit', '0');
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('--limit: limit must be an integer from 1 to 1000');
    expect(balise('alerts', '--help').out).toContain('balise alerts --config balise.yaml');
  });
});
