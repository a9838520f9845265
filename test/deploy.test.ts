// The nginx and Caddy configurations of docs/deploy.md, read from the page itself, run with
// Debian's nginx and Caddy in front of a gateway; the visitor sits in a network namespace of its own
// with a public address (90.0.0.1, France in the bundled country database), so the test sees
// whether the visitor's address — not the proxy's — reaches geolocation.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startChild } from './child.js';
import { readEvents, tempDir } from './helpers.js';

const NGINX = '/usr/sbin/nginx';
const CADDY = '/usr/bin/caddy';
const ROOT = process.getuid?.() === 0;
const READY = ROOT && existsSync(NGINX) && existsSync(CADDY) && existsSync('/usr/sbin/ip');
const VISITOR = '90.0.0.1';
const PROXY = '192.0.2.1';
const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';

/** The code block of docs/deploy.md in `language`, with the gateway's port in place of 8080. */
function documented(language: string, gatewayPort: number): string {
  const page = readFileSync('docs/deploy.md', 'utf8');
  const block = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(page)?.[1];
  if (!block) throw new Error(`no ${language} block in docs/deploy.md`);
  return block.replaceAll('127.0.0.1:8080', `127.0.0.1:${gatewayPort}`);
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function waitForPort(host: string, port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`exited: ${log()}`));
      fetch(`http://${host}:${port}/`)
        .then(() => resolve())
        .catch(() =>
          Date.now() > deadline
            ? reject(new Error(`no answer on ${port}: ${log()}`))
            : setTimeout(attempt, 100),
        );
    };
    attempt();
  });
}

const temp = tempDir();
const namespace = `blsv${process.pid % 100_000}`;
const veth = `bv${process.pid % 100_000}`;
const children: ChildProcess[] = [];
/** Stops a process the way it stops cleanly (nginx's master takes its workers with it), then for sure. */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

afterAll(async () => {
  await Promise.all(children.map(stop));
  if (READY) execFileSync('ip', ['netns', 'del', namespace], { stdio: 'ignore' });
  temp.cleanup();
});

/** Sends a request from the visitor's namespace with curl; returns the status. */
function fromVisitor(url: string, body?: string, headers: string[] = []): string {
  const args = ['netns', 'exec', namespace, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-A', UA];
  args.push('-H', 'Host: www.example.fr', ...headers.flatMap((h) => ['-H', h]));
  if (body !== undefined) args.push('-H', 'Content-Type: text/plain', '--data', body);
  return execFileSync('ip', [...args, url], { encoding: 'utf8' });
}

describe.skipIf(!READY)(
  'docs/deploy.md behind Debian nginx and Caddy (needs root, nginx, caddy, ip netns)',
  () => {
    it("passes the visitor's address (not the proxy's) to geolocation and the visitor hash, and never a forged one", async () => {
      const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'inherit' });
      ip('netns', 'add', namespace);
      ip('link', 'add', `${veth}a`, 'type', 'veth', 'peer', 'name', `${veth}b`);
      ip('link', 'set', `${veth}b`, 'netns', namespace);
      ip('addr', 'add', `${PROXY}/32`, 'dev', `${veth}a`);
      ip('link', 'set', `${veth}a`, 'up');
      ip('route', 'add', `${VISITOR}/32`, 'dev', `${veth}a`);
      ip('netns', 'exec', namespace, 'ip', 'addr', 'add', `${VISITOR}/32`, 'dev', `${veth}b`);
      ip('netns', 'exec', namespace, 'ip', 'link', 'set', `${veth}b`, 'up');
      ip('netns', 'exec', namespace, 'ip', 'link', 'set', 'lo', 'up');
      ip('netns', 'exec', namespace, 'ip', 'route', 'add', `${PROXY}/32`, 'dev', `${veth}b`);

      const config = join(temp.dir, 'balise.yaml');
      writeFileSync(
        config,
        [
          'server: { host: 127.0.0.1, port: 0, node: deploy, trustedProxies: [127.0.0.1] }',
          'store: { kind: duckdb, path: ./balise.duckdb, flushMs: 20 }',
          'sites: [{ host: www.example.fr }]',
        ].join('\n'),
      );
      const gateway = await startChild(config);
      children.push(gateway.child);
      const gatewayPort = Number(new URL(gateway.url).port);

      // nginx: the documented location block in a server of its own.
      const nginxPort = await freePort(PROXY);
      mkdirSync(join(temp.dir, 'nginx'));
      writeFileSync(
        join(temp.dir, 'nginx', 'nginx.conf'),
        `worker_processes 1;\ndaemon off;\npid ${temp.dir}/nginx/nginx.pid;\nerror_log ${temp.dir}/nginx/error.log;\n` +
          `events {}\nhttp {\n  access_log off;\n  client_body_temp_path ${temp.dir}/nginx;\n  proxy_temp_path ${temp.dir}/nginx;\n` +
          `  server {\n    listen ${PROXY}:${nginxPort};\n    server_name www.example.fr;\n${documented('nginx', gatewayPort)}  }\n}\n`,
      );
      let nginxLog = '';
      const nginx = spawn(NGINX, ['-c', join(temp.dir, 'nginx', 'nginx.conf')], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(nginx);
      nginx.stderr.on('data', (chunk: Buffer) => (nginxLog += chunk.toString()));
      await waitForPort(PROXY, nginxPort, nginx, () => nginxLog);

      // Caddy: the documented handle block in a site of its own (no TLS, no admin endpoint here).
      const caddyPort = await freePort(PROXY);
      writeFileSync(
        join(temp.dir, 'Caddyfile'),
        `{\n\tadmin off\n\tauto_https off\n}\nhttp://www.example.fr:${caddyPort} {\n\tbind ${PROXY}\n${documented('caddyfile', gatewayPort)}}\n`,
      );
      let caddyLog = '';
      const caddy = spawn(CADDY, ['run', '--config', join(temp.dir, 'Caddyfile'), '--adapter', 'caddyfile'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, HOME: temp.dir, XDG_DATA_HOME: temp.dir, XDG_CONFIG_HOME: temp.dir },
      });
      children.push(caddy);
      caddy.stderr.on('data', (chunk: Buffer) => (caddyLog += chunk.toString()));
      await waitForPort(PROXY, caddyPort, caddy, () => caddyLog);

      const event = (path: string) =>
        JSON.stringify({ eventType: 'pageview', location: `https://www.example.fr${path}` });
      expect(fromVisitor(`http://${PROXY}:${nginxPort}/balise/s.js`)).toBe('200');
      expect(fromVisitor(`http://${PROXY}:${nginxPort}/balise/e`, event('/via-nginx'))).toBe('204');
      expect(fromVisitor(`http://${PROXY}:${caddyPort}/balise/e`, event('/via-caddy'))).toBe('204');
      // A visitor claiming another address (Great Britain) is still placed where it connects from.
      expect(
        fromVisitor(`http://${PROXY}:${nginxPort}/balise/e`, event('/forged'), [
          'X-Forwarded-For: 81.2.69.160',
        ]),
      ).toBe('204');

      const stopped = new Promise((resolve) => gateway.child.once('exit', resolve));
      gateway.child.kill('SIGTERM');
      await stopped;
      const rows = await readEvents(temp.dir);
      const byPath = new Map(rows.map((row) => [row.path, row]));
      expect([...byPath.keys()].sort()).toEqual(['/forged', '/via-caddy', '/via-nginx']);
      for (const row of rows) expect(row.country, String(row.path)).toBe('FR');
      // One visitor (one address, one browser) through both proxies: one hash.
      expect(new Set(rows.map((row) => String(row.visitor_hash))).size).toBe(1);
      expect(rows[0]!.visitor_hash).not.toBeNull();
    }, 90_000);
  },
);
