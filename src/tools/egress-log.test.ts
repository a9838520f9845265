import { describe, expect, it } from 'vitest';
import type { EgressSink } from '../store/store.js';
import { EgressLog } from './egress-log.js';
import type { EgressRecord } from './outbox.js';

function record(n: number): EgressRecord {
  return {
    ts: n,
    site: 'www.example.fr',
    tool: 'ga4',
    host: 'region1.google-analytics.com',
    path: '/g/collect',
    bytes: 10,
    sha256: '',
    policy: 'ga4',
    outcome: 'sent',
    status: 204,
    reason: null,
    deliveryId: `d${n}`,
    deliveries: 1,
  };
}

/** A store that refuses while `away`, and keeps what it is given. */
function sink() {
  const kept: EgressRecord[] = [];
  const state = { away: true };
  const store: EgressSink = {
    appendEgress: (records: readonly EgressRecord[]) => {
      if (state.away) return Promise.reject(new Error('store away'));
      kept.push(...records);
      return Promise.resolve();
    },
  };
  return { store, kept, state };
}

describe('EgressLog', () => {
  it('keeps the newest records while the store is away, counts the others lost, and writes them in order when it is back', async () => {
    const { store, kept, state } = sink();
    const errors: unknown[] = [];
    const log = new EgressLog(store, 60_000, 1000, (error) => errors.push(error));
    for (let n = 0; n < 5000; n++) {
      log.add(record(n));
      if (n % 700 === 0) await log.flush();
    }
    await log.flush();
    expect(errors.length).toBeGreaterThan(0);
    expect(log.lost).toBe(4000);
    state.away = false;
    await log.close();
    expect(kept.map((r) => r.ts)).toEqual(Array.from({ length: 1000 }, (_, i) => 4000 + i));
  });

  it('holds at most an eighth more than its bound between flushes', () => {
    const { store } = sink();
    const log = new EgressLog(store, 60_000, 800);
    for (let n = 0; n < 900; n++) log.add(record(n));
    expect(log.lost).toBe(0);
    log.add(record(900));
    expect(log.lost).toBe(101);
    void log.close().catch(() => undefined);
  });
});
