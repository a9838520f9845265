import { writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startChild } from '../child.js';
import { tempDir } from '../helpers.js';
import { stopChild } from './load.js';

const temp = tempDir();
afterAll(() => temp.cleanup());

/** Opens a connection from `localAddress` that sends a POST's headers, then one body byte per second. */
function slowBody(port: number, localAddress: string, closed: { count: number }): Socket {
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  let timer: NodeJS.Timeout | undefined;
  socket.on('connect', () => {
    socket.write(
      'POST /balise/e HTTP/1.1\r\nHost: www.example.fr\r\nContent-Type: text/plain\r\nContent-Length: 60000\r\n\r\n{',
    );
    timer = setInterval(() => socket.write(' '), 1000);
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    clearInterval(timer);
    closed.count++;
  });
  return socket;
}

describe('slow clients', () => {
  it('serves normal clients while 2,400 slow-body connections from six addresses attack, and cuts the slow ones off', async () => {
    const configPath = join(temp.dir, 'balise.yaml');
    writeFileSync(
      configPath,
      [
        'server: { host: 127.0.0.1, port: 0, node: slow, limits: { maxConnections: 1800 } }',
        'store: { kind: duckdb, path: ./balise.duckdb, flushMs: 50 }',
        'sites: [{ host: www.example.fr, aliases: [127.0.0.1] }]',
      ].join('\n'),
    );
    // A small server's file limit: without caps, 2,400 held connections would exhaust it.
    const gateway = await startChild(configPath, { openFiles: 2048 });
    const port = Number(new URL(gateway.url).port);
    const closed = { count: 0 };
    const sockets: Socket[] = [];
    for (let a = 2; a <= 7; a++)
      for (let i = 0; i < 400; i++) {
        sockets.push(slowBody(port, `127.0.0.${a}`, closed));
        if (i % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const health = (await (await fetch(`${gateway.url}/balise/healthz`)).json()) as {
      connections: { open: number; refusedPerAddress: number };
    };
    expect(health.connections.refusedPerAddress).toBeGreaterThanOrEqual(6 * (400 - 256));

    // Normal clients, from their own address, during the attack: every one is served.
    const statuses: number[] = [];
    const started = Date.now();
    for (let round = 0; round < 20; round++) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, () =>
          fetch(`${gateway.url}/balise/e`, {
            method: 'POST',
            headers: { 'content-type': 'text/plain' },
            body: JSON.stringify({ eventType: 'pageview', location: 'https://www.example.fr/normal' }),
          }).then(
            (r) => r.status,
            () => 0,
          ),
        ),
      );
      statuses.push(...answers);
    }
    const servedIn = Date.now() - started;
    expect(statuses.filter((s) => s !== 204)).toEqual([]);

    // The slow bodies are cut off once requestTimeoutMs (10 s) has passed.
    const deadline = Date.now() + 20_000;
    while (closed.count < sockets.length && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 200));
    console.log(
      `slow clients: ${sockets.length} slow connections, ${health.connections.refusedPerAddress} refused at once (per-address cap), ` +
        `200 normal requests all 204 in ${servedIn} ms, ${closed.count} slow connections closed by the gateway`,
    );
    expect(closed.count).toBe(sockets.length);
    for (const socket of sockets) socket.destroy();
    expect(await stopChild(gateway.child)).toBe(0);
  });
});
