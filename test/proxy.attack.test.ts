import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../src/api/auth.js';
import { createGateway, type Gateway } from '../src/gateway.js';
import { tempDir, testConfig } from './helpers.js';

// Proxy mode's "under attack" switched by the attack detector itself: a burst of requests on
// one path, stored as request events, is found by the detector and the site goes under attack.
const temp = tempDir('balise-proxy-attack-');
const HOST = 'www.watched.test';
const TOKEN = 'bls_test_token_for_attack_1234567890';
let origin: Server;
let gateway: Gateway;
let port: number;
const lines: string[] = [];

function get(path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host: HOST, ...headers } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  origin = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  gateway = await createGateway(
    testConfig(temp.dir, {
      admin: { tokens: [hashToken(TOKEN)] },
      sites: [
        {
          host: HOST,
          proxy: {
            upstream: `http://127.0.0.1:${(origin.address() as AddressInfo).port}`,
            protect: { auto: true },
          },
        },
      ],
    }),
    { attackWatchMs: 300, logError: (line) => lines.push(line) },
  );
  await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  port = (gateway.app.server.address() as AddressInfo).port;
});

afterAll(async () => {
  await gateway.close();
  origin.close();
  temp.cleanup();
});

describe('the attack detector and proxy mode', () => {
  it('switches a site with protect.auto to "under attack" when a burst is found', async () => {
    const state = async () =>
      JSON.parse((await get('/balise/api/v1/proxy', { authorization: `Bearer ${TOKEN}` })).body) as {
        sites: { underAttack: boolean }[];
      };
    expect((await state()).sites[0]!.underAttack).toBe(false);
    // 60 requests within a second on one path: well above its ordinary rate and 20 a second.
    const answers = await Promise.all(Array.from({ length: 60 }, () => get('/login')));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    let underAttack = false;
    for (let i = 0; i < 40 && !underAttack; i++) {
      underAttack = (await state()).sites[0]!.underAttack;
      if (!underAttack) await new Promise((r) => setTimeout(r, 250));
    }
    expect(underAttack).toBe(true);
    expect(
      lines.some((line) => line.includes(`${HOST} is under attack (the attack detector found a burst)`)),
    ).toBe(true);
  });
});
