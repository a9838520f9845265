import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config/load.js';
import { goalsReport } from '../src/insights/goals.js';
import { pathPattern } from '../src/store/goals.js';
import type { EventRow } from '../src/store/row.js';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';
import type { Store } from '../src/store/store.js';
import { rowsAtLocal } from './fixtures.js';
import { openTestStore, storeKinds } from './stores.js';

const config = parseConfig(
  {
    sites: [
      {
        host: 'shop.example',
        goals: [
          { name: 'Signup', event: 'signup' },
          { name: 'Visit product', path: '/product/*' },
          { name: 'Add to cart', event: 'add_to_cart' },
          { name: 'Checkout', path: '/checkout' },
        ],
        funnels: [{ name: 'Purchase', steps: ['Visit product', 'Add to cart', 'Checkout'] }],
      },
    ],
  },
  { env: {} },
);

const at = (visitor: string, local: string, fields: Partial<EventRow>): EventRow =>
  rowsAtLocal(local, 1, { site: 'shop.example', visitorHash: visitor, deviceType: 'desktop', ...fields })[0]!;
const page = (visitor: string, local: string, path: string) => at(visitor, local, { type: 'pageview', path });
const track = (visitor: string, local: string, name: string, props: object | null = null) =>
  at(visitor, local, {
    type: name === 'Order Completed' ? 'ecommerce' : 'event',
    name,
    path: '/',
    props: props && JSON.stringify(props),
  });

// Tuesday 7 July 2026, Paris. Worked out by hand in the tests below.
const EVENTS: EventRow[] = [
  // 21: the whole funnel, then an order in euros.
  page('21', '2026-07-07T10:00', '/product/1'),
  track('21', '2026-07-07T10:01', 'add_to_cart'),
  page('21', '2026-07-07T10:02', '/checkout'),
  track('21', '2026-07-07T10:03', 'Order Completed', { revenue: 19.9, currency: 'eur' }),
  // 22: a product, then checkout without adding to the cart: step 1 only.
  page('22', '2026-07-07T11:00', '/product/2'),
  page('22', '2026-07-07T11:01', '/checkout'),
  // 23: adds to the cart before seeing the product: step 1 only (steps count in order).
  track('23', '2026-07-07T12:00', 'add_to_cart'),
  page('23', '2026-07-07T12:01', '/product/3'),
  // 24: a product, and the cart an hour later, in another visit: step 1 only.
  page('24', '2026-07-07T13:00', '/product/4'),
  track('24', '2026-07-07T14:00', 'add_to_cart'),
  // 25: signs up and orders twice, in dollars (total, not revenue) and euros.
  track('25', '2026-07-07T10:00', 'signup'),
  track('25', '2026-07-07T10:05', 'Order Completed', { total: 5, currency: 'USD' }),
  track('25', '2026-07-07T10:06', 'Order Completed', { revenue: 10, currency: 'EUR' }),
  // 26: a home page only; a bot that "converts" is never counted.
  page('26', '2026-07-07T15:00', '/'),
  at('99', '2026-07-07T15:00', { type: 'pageview', path: '/checkout', isBot: true, deviceType: 'bot' }),
];

describe('goal path patterns', () => {
  it('match a whole path, * any run of characters, everything else literally', () => {
    const re = (p: string) => new RegExp(pathPattern(p));
    expect(re('/product/*').test('/product/12')).toBe(true);
    expect(re('/product/*').test('/products/12')).toBe(false);
    expect(re('/checkout').test('/checkout/done')).toBe(false);
    expect(re('/a.b?c').test('/a.b?c')).toBe(true);
    expect(re('/a.b?c').test('/axbc')).toBe(false);
  });

  it('are checked in the configuration: a funnel names goals of its site, a goal is an event or a path', () => {
    expect(() =>
      parseConfig(
        { sites: [{ host: 'a.example', goals: [{ name: 'x', event: 'e', path: '/' }] }] },
        { env: {} },
      ),
    ).toThrow(ConfigError);
    expect(() =>
      parseConfig(
        {
          sites: [
            {
              host: 'a.example',
              goals: [{ name: 'x', event: 'e' }],
              funnels: [{ name: 'f', steps: ['x', 'y'] }],
            },
          ],
        },
        { env: {} },
      ),
    ).toThrow(/step y is not a goal/);
  });
});

describe.each(storeKinds())('goals, funnels and revenue on %s', (kind) => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore(kind);
    await store.append(EVENTS);
  });
  afterAll(() => store.close());

  const report = () =>
    goalsReport(
      store,
      config,
      { site: 'shop.example', from: '2026-07-07', to: '2026-07-08' },
      Date.UTC(2026, 7, 1),
    );

  it('counts the visitors and events of each goal and its conversion rate', async () => {
    const result = await report();
    expect(result.visitors).toBe(6);
    expect(result.goals).toEqual([
      { name: 'Signup', visitors: 1, events: 1, conversionRate: 16.7 },
      { name: 'Visit product', visitors: 4, events: 4, conversionRate: 66.7 },
      { name: 'Add to cart', visitors: 3, events: 3, conversionRate: 50 },
      { name: 'Checkout', visitors: 2, events: 2, conversionRate: 33.3 },
    ]);
  });

  it('follows the funnel step by step, in order, within a visit', async () => {
    expect((await report()).funnels).toEqual([
      {
        name: 'Purchase',
        steps: [
          { goal: 'Visit product', visits: 4, dropOff: 0, conversionRate: 100 },
          { goal: 'Add to cart', visits: 1, dropOff: 3, conversionRate: 25 },
          { goal: 'Checkout', visits: 1, dropOff: 0, conversionRate: 25 },
        ],
      },
    ]);
  });

  it('sums the revenue of completed orders per currency', async () => {
    expect((await report()).revenue).toEqual([
      { currency: 'EUR', orders: 2, total: 29.9 },
      { currency: 'USD', orders: 1, total: 5 },
    ]);
  });
});

// The embedded store keeps, with each visit, the goals it reached in order, and reads funnels
// there: on random visits (several goals per event, steps out of order, visits cut by 30-minute
// gaps and midnight), its funnels must equal those numbered from the events, and follow a change
// of the goals.
describe('funnels from the visits table (DuckDB)', () => {
  const goals = [
    { name: 'Home', path: '/' },
    { name: 'Products', path: '/product/*' },
    { name: 'Special product', path: '/product/special*' },
    { name: 'Cart', event: 'add_to_cart' },
    { name: 'Checkout', path: '/checkout' },
  ];
  const funnels = [
    { name: 'Buy', steps: ['Products', 'Cart', 'Checkout'] },
    { name: 'Special', steps: ['Home', 'Special product', 'Cart'] },
    { name: 'Backwards', steps: ['Checkout', 'Cart', 'Products', 'Home'] },
  ];
  const settings = (list: typeof goals) =>
    parseConfig({ sites: [{ host: 'shop.example', goals: list, funnels }] }, { env: {} });
  const random = (() => {
    let seed = 11;
    return () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  })();
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const events: EventRow[] = [];
  for (let visitor = 0; visitor < 120; visitor++) {
    let minute = Math.floor(random() * 3 * 24 * 60);
    for (let i = 0; i < 3 + Math.floor(random() * 8); i++) {
      minute += pick([1, 2, 5, 29, 31, 90]);
      const day = Math.floor(minute / (24 * 60));
      const local = new Date(Date.UTC(2026, 6, 6, 0, minute)).toISOString().slice(0, 16);
      const hash = `${visitor}${String(day).padStart(2, '0')}`;
      events.push(
        random() < 0.3
          ? track(hash, local, 'add_to_cart')
          : page(hash, local, pick(['/', '/product/1', '/product/special-2', '/checkout', '/about'])),
      );
    }
  }
  let store: DuckDBStore;
  beforeAll(async () => {
    store = await DuckDBStore.open(':memory:');
    await store.migrate();
    await store.append(events);
  });
  afterAll(() => store.close());
  // The same store seen as one without a visits table: funnels numbered from its events.
  const fromEvents = () => Object.create(store, { keepsSummaries: { value: false } }) as Store;
  const range = { site: 'shop.example', from: '2026-07-06', to: '2026-07-10' };

  it('gives the funnels numbered from the events, and follows a change of the goals', async () => {
    for (const list of [
      goals,
      goals.map((g) => (g.name === 'Products' ? { name: g.name, path: '/product/1' } : g)),
    ]) {
      const config = settings(list);
      const kept = await goalsReport(store, config, range, Date.UTC(2026, 6, 20));
      const numbered = await goalsReport(fromEvents(), config, range, Date.UTC(2026, 6, 20));
      expect(kept.funnels).toEqual(numbered.funnels);
      expect(kept.funnels[0]!.steps[0]!.visits).toBeGreaterThan(20);
      // Not a comparison of empty funnels: each reaches its third step.
      expect(kept.funnels.every((f) => f.steps[2]!.visits > 0)).toBe(true);
    }
    const [masks] = await store.query<{ n: number }>(
      'SELECT count(*) AS n FROM visits WHERE goal_masks IS NOT NULL',
    );
    expect(Number(masks!.n)).toBeGreaterThan(50);
  });
});
