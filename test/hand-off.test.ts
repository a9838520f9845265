// Every command beside a running gateway: `balise import|query|report|egress|outbox|audit` on the
// configuration of a gateway that serves hand their work to it (its control socket), while it keeps
// accepting events; no "stop the gateway".
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startChild } from './child.js';
import { readEvents, tempDir } from './helpers.js';
import { HAS_SHARED_DATA, sharedData } from './shared-data.js';

const temp = tempDir();
afterAll(() => temp.cleanup());
const CLI = resolve('dist/cli/main.js');

function balise(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd: temp.dir }, (error, stdout, stderr) =>
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** `balise query` of the log's requests by day (May 2015), as JSON. */
function requestsByDay(): Promise<{ code: number; stdout: string; stderr: string }> {
  return balise([
    'query',
    '--config',
    'balise.yaml',
    '--site',
    'semicomplete.com',
    '--metric',
    'requests',
    '--interval',
    '1d',
    '--from',
    '2015-05-17',
    '--to',
    '2015-05-22',
    '--tz',
    'UTC',
    '--format',
    'json',
  ]);
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe.skipIf(!HAS_SHARED_DATA)(
  'commands beside a running gateway (DuckDB, one process owns the file)',
  () => {
    it('import, query, report, egress, outbox and audit run while the gateway serves and stores every event it acknowledges', async () => {
      writeFileSync(
        join(temp.dir, 'balise.yaml'),
        [
          'server: { host: 127.0.0.1, port: 0, node: hand-off, rateLimit: { perIpPerMinute: 1000000 } }',
          'store: { kind: duckdb, path: ./data/balise.duckdb, flushMs: 20 }',
          'sites: [{ host: semicomplete.com, aliases: [127.0.0.1] }]',
        ].join('\n'),
      );
      const log = join(temp.dir, 'access.log');
      writeFileSync(
        log,
        readFileSync(sharedData('logs', 'apache_combined.log'), 'utf8').split('\n').slice(0, 3000).join('\n'),
      );
      const gateway = await startChild(join(temp.dir, 'balise.yaml'));
      expect(existsSync(join(temp.dir, 'data/balise.duckdb.spool.sock'))).toBe(true);

      // Beacons keep arriving while the import runs.
      let stop = false;
      let acked = 0;
      const beacons = (async () => {
        while (!stop) {
          const response = await fetch(`${gateway.url}/balise/e`, {
            method: 'POST',
            headers: { 'content-type': 'text/plain' },
            body: JSON.stringify({ eventType: 'track', name: 'live', location: 'https://semicomplete.com/' }),
          });
          if (response.status === 204) acked++;
        }
      })();
      // A relative file name, read from the caller's folder (not the gateway's).
      const imported = await balise([
        'import',
        'access.log',
        '--config',
        'balise.yaml',
        '--format',
        'combined',
        '--site',
        'semicomplete.com',
        '--json',
      ]);
      stop = true;
      await beacons;
      expect(imported.stderr).toBe('');
      expect(imported.code).toBe(0);
      expect(JSON.parse(imported.stdout)).toMatchObject({ lines: 3000, imported: 3000, badLines: 0 });
      expect(acked).toBeGreaterThan(10);

      const query = await requestsByDay();
      expect(query.code).toBe(0);
      const { rows } = JSON.parse(query.stdout) as { rows: { value: number }[] };
      expect(rows.reduce((sum, r) => sum + r.value, 0)).toBe(3000);

      const report = await balise([
        'report',
        '--config',
        'balise.yaml',
        '--site',
        'semicomplete.com',
        '--from',
        '2015-05-17',
        '--to',
        '2015-05-22',
        '--tz',
        'UTC',
        '--out',
        'report.html',
      ]);
      expect(report.code).toBe(0);
      expect(readFileSync(join(temp.dir, 'report.html'), 'utf8')).toContain('semicomplete.com');

      // What a command refuses, it refuses with the same message and exit code as without a gateway.
      const bad = await balise([
        'query',
        '--config',
        'balise.yaml',
        '--site',
        'nope.example',
        '--metric',
        'requests',
        '--interval',
        '1d',
        '--last',
        '2d',
      ]);
      expect(bad.code).toBe(2);
      expect(bad.stdout).toContain('unknown site nope.example');

      expect(
        JSON.parse((await balise(['egress', '--config', 'balise.yaml', '--format', 'json'])).stdout),
      ).toEqual({ rows: [] });
      expect((await balise(['outbox', 'dead', '--config', 'balise.yaml'])).stdout).toContain(
        'no dead letters',
      );
      const audit = await balise(['audit', '--config', 'balise.yaml', '--format', 'json']);
      expect(JSON.parse(audit.stdout)).toHaveProperty('ok');

      // A backup while the gateway serves (run by the gateway, into a new DuckDB file).
      const backup = await balise(['store', 'backup', '--config', 'balise.yaml', '--out', 'backup.duckdb']);
      expect(backup.code).toBe(0);
      expect(backup.stdout).toContain('copied ');

      // import --follow beside the gateway: the gateway follows the log; interrupting the
      // command stops it there, after writing what it read.
      const followed = join(temp.dir, 'followed.log');
      const lines = readFileSync(sharedData('logs', 'apache_combined.log'), 'utf8').split('\n');
      writeFileSync(followed, `${lines.slice(3000, 3100).join('\n')}\n`);
      const follower = spawn(
        process.execPath,
        [
          CLI,
          'import',
          'followed.log',
          '--follow',
          '--config',
          'balise.yaml',
          '--format',
          'combined',
          '--site',
          'semicomplete.com',
        ],
        { cwd: temp.dir, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let followErr = '';
      follower.stderr.on('data', (data: Buffer) => (followErr += data.toString()));
      const deadline = Date.now() + 20_000;
      while (!followErr.includes('(Ctrl-C to stop)') && Date.now() < deadline)
        await new Promise((done) => setTimeout(done, 50));
      expect(followErr).toContain('(Ctrl-C to stop)');
      appendFileSync(followed, `${lines.slice(3100, 3150).join('\n')}\n`);
      await new Promise((done) => setTimeout(done, 2000));
      const followerExit = exited(follower);
      follower.kill('SIGTERM');
      await followerExit;
      const afterFollow = await requestsByDay();
      const followedRows = (JSON.parse(afterFollow.stdout) as { rows: { value: number }[] }).rows;
      expect(followedRows.reduce((sum, r) => sum + r.value, 0)).toBe(3150);

      // A second gateway on the same spool is refused at start.
      const second = await balise(['serve', '--config', 'balise.yaml']);
      expect(second.code).not.toBe(0);
      expect(second.stderr + second.stdout).toMatch(/another gateway runs on the same spool/);

      const stopped = exited(gateway.child);
      gateway.child.kill('SIGTERM');
      expect(await stopped).toBe(0);
      expect(existsSync(join(temp.dir, 'data/balise.duckdb.spool.sock'))).toBe(false);
      const stored = await readEvents(join(temp.dir, 'data'));
      expect(stored.filter((r) => r.type === 'request')).toHaveLength(3150);
      expect(stored.filter((r) => r.name === 'live')).toHaveLength(acked);

      // The backup restored into another store holds every imported line.
      writeFileSync(
        join(temp.dir, 'restored.yaml'),
        'store: { kind: duckdb, path: ./restored/balise.duckdb }\nsites: [{ host: semicomplete.com }]\n',
      );
      const restore = await balise(['store', 'copy', '--from', 'backup.duckdb', '--config', 'restored.yaml']);
      expect(restore.code).toBe(0);
      const restored = await readEvents(join(temp.dir, 'restored'));
      expect(restored.filter((r) => r.type === 'request')).toHaveLength(3000);

      // With the gateway stopped, the same command runs in its own process.
      const offline = await requestsByDay();
      expect(offline.stdout).toBe(afterFollow.stdout);
    }, 120_000);
  },
);
