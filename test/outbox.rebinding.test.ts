import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { Outbox, type EgressRecord } from '../src/tools/outbox.js';
import { httpTransport } from '../src/tools/transport.js';
import { tempDir } from './helpers.js';

const temp = tempDir('balise-rebinding-');
afterAll(() => temp.cleanup());

describe('egress guard against DNS rebinding', () => {
  it('buries a delivery whose host resolves to a private address when connecting, after a public answer to the check', async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const log: EgressRecord[] = [];
    const settings = parseConfig({ sites: [{ host: 'www.example.fr' }] }, { env: {} }).outbox;
    const outbox = await Outbox.open(temp.dir, settings, {
      log: (record) => log.push(record),
      // The check sees a public address; the connection is offered loopback.
      resolve: () => Promise.resolve(['93.184.215.14']),
      transport: httpTransport(2, (_host, options, callback) => {
        if ((options as { all?: boolean }).all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
        else callback(null, '127.0.0.1', 4);
      }),
    });
    await outbox.enqueue([
      {
        id: 'event-1:hook',
        site: 'www.example.fr',
        tool: 'hook',
        eventId: 'event-1',
        request: { url: `http://hooks.vendor.example:${port}/in`, method: 'POST', headers: {}, body: '{}' },
        policy: 'hook',
        operatorHosts: [],
        createdAt: Date.now(),
        attempts: 0,
      },
    ]);
    for (let i = 0; i < 100 && outbox.deadLetters().length === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    const [letter] = outbox.deadLetters();
    expect(letter?.message).toMatch(/private address 127\.0\.0\.1 \(when connecting\)/);
    expect(log.map((r) => r.outcome)).toEqual(['blocked']);
    expect(outbox.pendingCount).toBe(0);
    expect(hits).toBe(0);
    await outbox.close();
    server.close();
  });
});
