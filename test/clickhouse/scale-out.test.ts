// Two gateway processes behind one ClickHouse: every acknowledged event stored exactly once (one
// of them killed with SIGKILL mid-load and restarted), and one visitor hash for the same visitor
// on both gateways the same day (shared salts).
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.js';
import { hashToken } from '../../src/api/auth.js';
import { hashPassword } from '../../src/auth/password.js';
import { startChild } from '../child.js';
import { tempDir } from '../helpers.js';
import { freshDatabase } from '../stores.js';

const temp = tempDir();
afterAll(() => temp.cleanup());

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Posts track events tagged `{g, n}` from `workers` loops until `stopped()`; returns the acknowledged numbers. */
async function load(url: string, g: string, stopped: () => boolean, acked: Set<string>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (!stopped()) {
      const n = next++;
      try {
        const response = await fetch(`${url}/balise/e`, {
          method: 'POST',
          headers: {
            'content-type': 'text/plain',
            'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0',
          },
          body: JSON.stringify({
            eventType: 'track',
            name: 'load',
            location: 'https://www.example.fr/',
            payload: { g, n },
          }),
        });
        if (response.status === 204) acked.add(`${g}:${n}`);
      } catch {
        // in flight when the process died: not acknowledged
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

describe('two gateways on one ClickHouse', () => {
  it('store every acknowledged event exactly once, through a SIGKILL and a restart, and hash a visitor alike', async () => {
    const database = freshDatabase();
    const url = inject('clickhouseUrl');
    const configFor = (name: string) => {
      const path = join(temp.dir, `${name}.yaml`);
      writeFileSync(
        path,
        [
          `server: { host: 127.0.0.1, port: 0, node: ${name}, rateLimit: { perIpPerMinute: 1000000 } }`,
          `store: { kind: clickhouse, url: "${url}", database: ${database}, spoolDir: ./${name}.spool, flushMs: 20, batchRows: 50 }`,
          `outbox: { dir: ./${name}.outbox }`,
          'sites: [{ host: www.example.fr, aliases: [127.0.0.1] }]',
        ].join('\n'),
      );
      return path;
    };
    const configA = configFor('gw-a');
    const configB = configFor('gw-b');
    const [a, b] = await Promise.all([startChild(configA), startChild(configB)]);
    const acked = new Set<string>();
    let killed = false;
    let done = false;
    const loadA = load(a.url, 'a', () => killed, acked);
    const loadB = load(b.url, 'b', () => done, acked);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const exitA = exited(a.child);
    a.child.kill('SIGKILL');
    killed = true;
    await exitA;
    await loadA;
    // Gateway A comes back on its own spool; B kept serving meanwhile.
    const again = await startChild(configA);
    const loadA2 = load(again.url, 'a2', () => done, acked);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    done = true;
    await loadA2;
    await loadB;
    const stopA = exited(again.child);
    const stopB = exited(b.child);
    again.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    expect(await stopA).toBe(0);
    expect(await stopB).toBe(0);

    const store = ClickHouseStore.open({ url, database });
    try {
      const rows = await store.query<{ props: string; node: string; visitor: string }>(
        'SELECT props, node, toString(visitor_hash) AS visitor FROM events',
      );
      const seen = new Map<string, number>();
      for (const row of rows) {
        const { g, n } = JSON.parse(row.props) as { g: string; n: number };
        seen.set(`${g}:${n}`, (seen.get(`${g}:${n}`) ?? 0) + 1);
      }
      expect(acked.size).toBeGreaterThan(200);
      expect([...acked].filter((key) => key.startsWith('b:')).length).toBeGreaterThan(100);
      expect([...acked].filter((key) => !seen.has(key))).toEqual([]);
      expect([...seen].filter(([, c]) => c > 1)).toEqual([]);
      expect(new Set(rows.map((r) => r.node))).toEqual(new Set(['gw-a', 'gw-b']));
      // One client (same address, same User-Agent) on both gateways: one visitor.
      expect(new Set(rows.map((r) => r.visitor)).size).toBe(1);
    } finally {
      await store.close();
    }
  }, 120_000);

  it('recognise a dashboard login made on the other, and end it everywhere on logout', async () => {
    const database = freshDatabase();
    const url = inject('clickhouseUrl');
    const hash = hashPassword('correct horse battery staple');
    const configFor = (name: string) => {
      const path = join(temp.dir, `login-${name}.yaml`);
      writeFileSync(
        path,
        [
          `server: { host: 127.0.0.1, port: 0, node: ${name} }`,
          `store: { kind: clickhouse, url: "${url}", database: ${database}, spoolDir: ./login-${name}.spool }`,
          `outbox: { dir: ./login-${name}.outbox }`,
          `admin: { passwordHash: "${hash}" }`,
          'sites: [{ host: www.example.fr }]',
        ].join('\n'),
      );
      return path;
    };
    const [a, b] = await Promise.all([startChild(configFor('a')), startChild(configFor('b'))]);
    try {
      const login = await fetch(`${a.url}/balise/ui/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ password: 'correct horse battery staple' }),
      });
      expect(login.status).toBe(200);
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      const { csrf } = (await login.json()) as { csrf: string };
      const session = async (gateway: string) =>
        (await (await fetch(`${gateway}/balise/ui/session`, { headers: { cookie } })).json()) as {
          authenticated: boolean;
          csrf?: string;
        };
      expect(await session(a.url)).toMatchObject({ authenticated: true, csrf });
      expect(await session(b.url)).toMatchObject({ authenticated: true, csrf });
      // A forged cookie is refused on both.
      const forged = cookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
      const forgedSession = await fetch(`${b.url}/balise/ui/session`, { headers: { cookie: forged } });
      expect(await forgedSession.json()).toEqual({ authenticated: false });
      const logout = await fetch(`${b.url}/balise/ui/logout`, {
        method: 'POST',
        headers: { cookie, 'x-balise-csrf': csrf },
      });
      expect(logout.status).toBe(204);
      expect(await session(b.url)).toEqual({ authenticated: false });
      // Gateway A learns of the logout within seconds.
      const deadline = Date.now() + 15_000;
      let onA = await session(a.url);
      while (onA.authenticated && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        onA = await session(a.url);
      }
      expect(onA).toEqual({ authenticated: false });
    } finally {
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
      await Promise.all([exited(a.child), exited(b.child)]);
    }
  }, 60_000);

  it('share the sites a dashboard saves: a change made on one gateway is applied and written on the other', async () => {
    const database = freshDatabase();
    const url = inject('clickhouseUrl');
    const token = 'bls_scale_out_settings_token_0123456789';
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const configFor = (name: string) => {
      const path = join(temp.dir, `settings-${name}.yaml`);
      writeFileSync(
        path,
        [
          `# gateway ${name}: its own server and spool, kept when sites change`,
          `server: { host: 127.0.0.1, port: 0, node: ${name} }`,
          `store: { kind: clickhouse, url: "${url}", database: ${database}, spoolDir: ./settings-${name}.spool }`,
          `outbox: { dir: ./settings-${name}.outbox }`,
          `admin: { tokens: ["${hashToken(token)}"] }`,
          'sites: [{ host: www.example.fr, group: news }]',
        ].join('\n'),
      );
      return path;
    };
    const fileA = configFor('a');
    const fileB = configFor('b');
    const [a, b] = await Promise.all([startChild(fileA), startChild(fileB)]);
    try {
      const view = (await (await fetch(`${a.url}/balise/api/v1/settings`, { headers: auth })).json()) as {
        revision: string;
      };
      const saved = await fetch(`${a.url}/balise/api/v1/settings/sites/www.example.fr`, {
        method: 'PUT',
        headers: { ...auth, 'if-match': `"${view.revision}"` },
        body: JSON.stringify({ site: { host: 'www.example.fr', group: 'tv', privacy: { ip: 'hide' } } }),
      });
      expect(saved.status).toBe(200);
      const deadline = Date.now() + 20_000;
      const sitesOnB = async () =>
        (
          (await (await fetch(`${b.url}/balise/api/v1/settings`, { headers: auth })).json()) as {
            sites: { group?: string }[];
          }
        ).sites;
      let sites = await sitesOnB();
      while (sites[0]?.group !== 'tv' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        sites = await sitesOnB();
      }
      expect(sites).toEqual([{ host: 'www.example.fr', group: 'tv', privacy: { ip: 'hide' } }]);
      // Gateway B's file: its sites replaced, its own server, store and comment kept.
      const text = readFileSync(fileB, 'utf8');
      expect(text).toContain('# gateway b');
      expect(text).toContain('node: b');
      expect(text).toContain('settings-b.spool');
      expect(text).toContain('group: tv');
    } finally {
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
      await Promise.all([exited(a.child), exited(b.child)]);
    }
  }, 60_000);
});
