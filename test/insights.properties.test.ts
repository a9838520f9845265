import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { BaliseError } from '../src/errors.js';
import { getSeries } from '../src/insights/getSeries.js';
import type { QueryInput } from '../src/insights/model.js';
import { topProperties } from '../src/insights/properties.js';
import type { Store } from '../src/store/store.js';
import { rowsAtLocal } from './fixtures.js';
import { openTestStore, storeKinds } from './stores.js';

// Custom event properties (docs/insights.md#custom-properties): the names used in a range, and
// any metric of events broken down or filtered by one of them, on both stores.

const config = parseConfig({ sites: [{ host: 'a.example' }, { host: 'b.example' }] }, { env: {} });
const NOW = Date.UTC(2026, 7, 1);

describe.each(storeKinds())('custom properties on %s', (kind) => {
  let store: Store;
  const at = (count: number, props: Record<string, unknown> | null, extra = {}) =>
    rowsAtLocal('2026-07-07T10:00', count, {
      type: 'event',
      name: 'signup',
      props: props && JSON.stringify(props),
      ...extra,
    });
  beforeAll(async () => {
    store = await openTestStore(kind);
    await store.append([
      ...at(5, { plan: 'pro', seats: 3 }),
      ...at(3, { plan: 'free' }),
      ...at(2, { seats: 10 }),
      ...at(4, null),
      // Bots' events count as the `events` metric counts them; another site's do not.
      ...at(7, { plan: 'bot-plan', robot: 'yes' }, { isBot: true, deviceType: 'bot' }),
      ...at(6, { plan: 'pro', other: 'site' }, { site: 'b.example' }),
    ]);
  });
  afterAll(() => store.close());

  const ask = (input: Partial<QueryInput>) =>
    getSeries(
      store,
      config,
      {
        sites: ['a.example'],
        metric: 'events',
        interval: '1d',
        from: '2026-07-07',
        to: '2026-07-08',
        ...input,
      },
      NOW,
    );

  it('lists the property names of the range’s events, most used first, as the events metric counts them', async () => {
    const { properties } = await topProperties(
      store,
      config,
      { sites: ['a.example'], from: '2026-07-07', to: '2026-07-08' },
      NOW,
    );
    expect(properties).toEqual([
      { name: 'plan', events: 15 },
      { name: 'robot', events: 7 },
      { name: 'seats', events: 7 },
    ]);
  });

  it('breaks events down by a property’s values, events without it as (none)', async () => {
    const result = await ask({ breakdown: 'property', property: 'plan' });
    // `events` counts every event, bots' too (docs/insights.md): their values are there.
    expect(Object.fromEntries(result.rows.map((row) => [row.property, row.value]))).toEqual({
      pro: 5,
      free: 3,
      'bot-plan': 7,
      '(none)': 6,
      '(other)': 0,
    });
    // Numbers are read as their text.
    const seats = await ask({ breakdown: 'property', property: 'seats', top: 1 });
    expect(seats.rows.map((row) => [row.property, row.value])).toEqual([
      ['(none)', 14],
      ['(other)', 7],
    ]);
  });

  it('filters by a property’s value', async () => {
    const result = await ask({ property: 'plan', filters: { property: 'pro' } });
    expect(result.rows[0]!.value).toBe(5);
    const visitors = await ask({ metric: 'visitors', property: 'seats', filters: { property: '10' } });
    expect(visitors.plan).toBe('raw');
  });

  it('refuses a property without its name, with a visit metric, or with a name that is not one', async () => {
    await expect(ask({ breakdown: 'property' })).rejects.toThrow(/name the custom property/);
    await expect(ask({ metric: 'visits', breakdown: 'property', property: 'plan' })).rejects.toThrow(
      /custom property is an event/,
    );
    const injected = ask({ breakdown: 'property', property: "plan') OR 1=1 --" });
    await expect(injected).rejects.toBeInstanceOf(BaliseError);
    await expect(injected).rejects.toThrow(/must be a property name/);
  });
});
