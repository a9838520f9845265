// A ClickHouse that does not answer: the gateway refuses to start and says what to fix; commands
// and the writer see the store as away (never a crash, nothing acknowledged lost).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { hashToken } from '../../src/api/auth.js';
import { configCheck } from '../../src/cli/config-check.js';
import { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.js';
import { createGateway } from '../../src/gateway.js';
import { tempDir, testConfig } from '../helpers.js';
import { startClickHouse } from './engine.js';

describe('a ClickHouse that does not answer', () => {
  it('stops the gateway at start with the address and what to fix', async () => {
    const store = ClickHouseStore.open({ url: 'http://127.0.0.1:1', database: 'balise' });
    await expect(store.migrate()).rejects.toThrow(
      /ClickHouse at http:\/\/127\.0\.0\.1:1 cannot be reached \(.*ECONNREFUSED.*\); start it or fix store\.url/,
    );
    await store.close();
    // balise config check says the same before anything starts; with the server up, all is well.
    const checked = tempDir();
    const lines: string[] = [];
    const file = join(checked.dir, 'balise.yaml');
    writeFileSync(
      file,
      'store: { kind: clickhouse, url: "http://127.0.0.1:1" }\nsites: [{ host: a.example }]\n',
    );
    expect(await configCheck(['check', file], (line) => lines.push(line))).toBe(2);
    expect(lines.join('\n')).toContain('store.url: ClickHouse at http://127.0.0.1:1 does not answer');
    writeFileSync(
      file,
      `store: { kind: clickhouse, url: "${inject('clickhouseUrl')}" }\nsites: [{ host: a.example }]\n`,
    );
    expect(await configCheck(['check', file], () => undefined)).toBe(0);
    checked.cleanup();
    const temp = tempDir();
    try {
      await expect(
        createGateway(testConfig(temp.dir, { store: { kind: 'clickhouse', url: 'http://127.0.0.1:1' } })),
      ).rejects.toThrow(/cannot be reached/);
    } finally {
      temp.cleanup();
    }
  });
});

describe('a ClickHouse that goes away while the gateway serves', () => {
  it('keeps acknowledging into the spool, says so in healthz and /metrics, and stores everything once it is back', async () => {
    const temp = tempDir();
    const dataDir = join(temp.dir, 'clickhouse');
    mkdirSync(dataDir);
    let server = await startClickHouse({ dataDir });
    const port = Number(new URL(server.url).port);
    const gateway = await createGateway(
      testConfig(temp.dir, {
        store: { kind: 'clickhouse', url: server.url, database: 'away' },
        admin: { tokens: [hashToken('bls_away_test_token_0123456789')] },
      }),
    );
    try {
      const post = (n: number) =>
        gateway.app.inject({
          method: 'POST',
          url: '/balise/e',
          headers: { host: 'www.example.fr', 'content-type': 'application/json' },
          payload: { eventType: 'track', name: 'away', location: 'https://www.example.fr/', payload: { n } },
        });
      for (let n = 0; n < 20; n++) expect((await post(n)).statusCode).toBe(204);
      await gateway.writer.flush();
      await server.stop();
      // ClickHouse is away: every event is still acknowledged (fsynced in the spool).
      for (let n = 20; n < 60; n++) expect((await post(n)).statusCode).toBe(204);
      await gateway.writer.flush();
      const health = await gateway.app.inject({ method: 'GET', url: '/balise/healthz' });
      expect(health.json()).toMatchObject({ status: 'degraded' });
      expect(gateway.writer.pendingRows).toBe(40);
      const metrics = await gateway.app.inject({
        method: 'GET',
        url: '/balise/metrics',
        headers: { authorization: 'Bearer bls_away_test_token_0123456789' },
      });
      expect(metrics.body).toMatch(/^balise_pending_rows 40$/m);
      expect(metrics.body).toMatch(/^balise_store_failing 1$/m);
      server = await startClickHouse({ dataDir, port });
      const deadline = Date.now() + 20_000;
      while (gateway.writer.pendingRows > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        await gateway.writer.flush();
      }
      expect(gateway.writer.pendingRows).toBe(0);
      const rows = await gateway.store.query<{ props: string }>(
        "SELECT props FROM events WHERE name = 'away'",
      );
      const seen = rows.map((r) => (JSON.parse(r.props) as { n: number }).n).sort((a, b) => a - b);
      expect(seen).toEqual(Array.from({ length: 60 }, (_, n) => n));
    } finally {
      await gateway.close();
      await server.stop();
      temp.cleanup();
    }
  }, 60_000);
});
