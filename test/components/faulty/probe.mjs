// Top-level code: looks for what a component must not have before it starts (and after).
let requireAnswer = 'not tried';
try {
  require('node:fs');
  requireAnswer = 'loaded';
} catch (error) {
  requireAnswer = `refused: ${error.message}`;
}
const seen = {
  process: typeof process,
  Buffer: typeof Buffer,
  globalProcess: typeof globalThis.process,
  require: requireAnswer,
};
let topLevelFetch = 'not tried';
try {
  await fetch('https://probe.example/top-level');
  topLevelFetch = 'sent';
} catch (error) {
  topLevelFetch = `refused: ${error.message}`;
}
export const manifest = {
  name: 'probe',
  permissions: ['server_network_requests'],
  hosts: [{ host: 'probe.example', eu: true }],
  settings: { endpoint: {} },
};
export default async function (manager, settings) {
  const answer = await manager.fetch(`${settings.endpoint}/probe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...seen, topLevelFetch }),
  });
  const queued = await answer.json();
  manager.addEventListener('event', async (event) => {
    let kv = 'allowed';
    try {
      event.client.set('x', '1');
    } catch (error) {
      kv = `refused: ${error.message}`;
    }
    let unknown = 'answered';
    try {
      manager.ext.do();
    } catch (error) {
      unknown = `refused: ${error.message}`;
    }
    const response = await manager.fetch(`${settings.endpoint}/event`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kv, unknown, status: answer.status, ok: answer.ok, queued }),
    });
    event.client.return({ status: response.status });
  });
}
