import { describe, expect, it } from 'vitest';
import { gather } from './batch.js';
import type { BatchRule, Pending } from './delivery.js';
import { IdQueue } from './id-queue.js';

const RULE: BatchRule = { field: 'events', max: 4, maxBytes: 100_000, vary: [] };

/** A pending GA4-like delivery whose batch key is its client id. */
function pending(n: number, client: string): Pending {
  return {
    id: `e${n}`,
    site: 'www.example.fr',
    tool: 'ga4',
    eventId: `e${n}`,
    request: {
      url: 'https://vendor.example/mp/collect',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: client, events: [{ name: 'page_view', n }] }),
    },
    policy: 'ga4',
    operatorHosts: [],
    createdAt: 0,
    attempts: 0,
    nextAt: 0,
  };
}

function setUp(clients: string[]) {
  const all = clients.map((client, n) => pending(n, client));
  const map = new Map(all.map((d) => [d.id, d]));
  const head = all[0]!;
  const queue = new IdQueue();
  for (const d of all.slice(1)) queue.push(d.id);
  return { head, queue, map, sending: new Set<string>([head.id]) };
}

/** The ids left in a queue, front first. */
function idsOf(queue: IdQueue): string[] {
  return Array.from({ length: queue.length }, (_, i) => queue.at(i)!);
}

describe('gather (a batch taken from a tool’s queue)', () => {
  it('takes the deliveries with the head’s key up to the rule’s max, and leaves the others in order', () => {
    const { head, queue, map, sending } = setUp(['a', 'b', 'a', 'c', 'a', 'a', 'a', 'b']);
    const group = gather(queue, head, RULE, map, sending);
    expect(group.map((d) => d.id)).toEqual(['e0', 'e2', 'e4', 'e5']);
    expect(idsOf(queue)).toEqual(['e1', 'e3', 'e6', 'e7']);
    expect([...sending].sort()).toEqual(['e0', 'e2', 'e4', 'e5']);
    // The batch's body holds every member's item (checked where it is built: one key, one body).
    const clients = group.map((d) => (JSON.parse(d.request.body!) as { client_id: string }).client_id);
    expect(new Set(clients)).toEqual(new Set(['a']));
  });

  it('stops looking after max deliveries in a row that cannot join: per-visitor keys cost one short look each', () => {
    // Four other visitors, then one of the head's: beyond the look, it waits for its own batch.
    const { head, queue, map, sending } = setUp(['a', 'b', 'c', 'd', 'e', 'a', 'f']);
    const group = gather(queue, head, RULE, map, sending);
    expect(group.map((d) => d.id)).toEqual(['e0']);
    expect(idsOf(queue)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
    // A run of misses shorter than max is looked through.
    const near = setUp(['a', 'b', 'c', 'd', 'a', 'a']);
    expect(gather(near.queue, near.head, RULE, near.map, near.sending).map((d) => d.id)).toEqual([
      'e0',
      'e4',
      'e5',
    ]);
    expect(idsOf(near.queue)).toEqual(['e1', 'e2', 'e3']);
  });

  it('skips deliveries already being sent or gone, and keeps them out of the group', () => {
    const { head, queue, map, sending } = setUp(['a', 'a', 'a', 'a']);
    sending.add('e1');
    map.delete('e2');
    const group = gather(queue, head, RULE, map, sending);
    expect(group.map((d) => d.id)).toEqual(['e0', 'e3']);
    expect(idsOf(queue)).toEqual(['e1', 'e2']);
  });

  it('joins only deliveries sent to the same URL with the same headers, but for those its seal makes', () => {
    const rule: BatchRule = { ...RULE, max: 10, vary: ['x-signature'] };
    const { head, queue, map, sending } = setUp(['a', 'a', 'a', 'a', 'a', 'a']);
    const edit = (id: string, change: (request: Pending['request']) => void) => change(map.get(id)!.request);
    edit('e0', (r) => Object.assign(r.headers, { 'x-site': 'one', 'x-signature': 's0' }));
    // A header of its own: apart (after the head's key, so a key kept for the tool is asked again).
    edit('e1', (r) => Object.assign(r.headers, { 'x-site': 'two' }));
    // The same headers, the seal's aside: joins.
    edit('e2', (r) => Object.assign(r.headers, { 'x-site': 'one', 'x-signature': 's2' }));
    // Another URL: apart.
    edit('e3', (r) => {
      r.url = 'https://other.example/mp/collect';
      Object.assign(r.headers, { 'x-site': 'one' });
    });
    // A header fewer: apart.
    edit('e4', () => undefined);
    edit('e5', (r) => Object.assign(r.headers, { 'x-site': 'one' }));
    const group = gather(queue, head, rule, map, sending);
    expect(group.map((d) => d.id)).toEqual(['e0', 'e2', 'e5']);
    expect(idsOf(queue)).toEqual(['e1', 'e3', 'e4']);
  });
});
