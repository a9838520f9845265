import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { getSeries } from '../src/insights/getSeries.js';
import type { QueryInput } from '../src/insights/model.js';
import type { EventRow } from '../src/store/row.js';
import type { Store } from '../src/store/store.js';
import { rowsAtLocal } from './fixtures.js';
import { openTestStore, storeKinds } from './stores.js';

const config = parseConfig({ sites: [{ host: 'a.example' }] }, { env: {} });

/** `count` requests at Paris time `local` for `path`, answered `status` with `bytes` each. */
const requests = (
  local: string,
  count: number,
  path: string,
  status: number,
  bytes: number,
  visitor = '1',
): EventRow[] =>
  rowsAtLocal(local, count, {
    type: 'request',
    source: 'import',
    path,
    status,
    bytes,
    visitorHash: visitor,
    deviceType: 'desktop',
  });

// GoAccess's panels from imported requests: status codes, not-found pages, bandwidth.
const ROWS: EventRow[] = [
  ...requests('2026-07-07T10:00', 5, '/', 200, 1000),
  ...requests('2026-07-07T10:05', 2, '/old', 404, 150, '2'),
  ...requests('2026-07-07T11:00', 1, '/gone', 404, 150),
  ...requests('2026-07-07T11:30', 3, '/big.zip', 200, 2_000_000, '3'),
  ...requests('2026-07-07T11:40', 1, '/api', 500, 0, '3'),
];

describe.each(storeKinds())('request panels on %s', (kind) => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore(kind);
    await store.append(ROWS);
  });
  afterAll(() => store.close());

  const day = (input: Partial<QueryInput>) =>
    getSeries(
      store,
      config,
      { sites: ['a.example'], interval: '1d', from: '2026-07-07', to: '2026-07-08', ...input },
      Date.UTC(2026, 7, 1),
    );

  it('sums the bytes sent (bandwidth), per hour too', async () => {
    expect((await day({ metric: 'bandwidth' })).rows[0]!.value).toBe(5 * 1000 + 3 * 150 + 3 * 2_000_000);
    const hourly = await day({
      metric: 'bandwidth',
      interval: '1h',
      from: '2026-07-07T10:00',
      to: '2026-07-07T12:00',
    });
    expect(hourly.rows.map((r) => r.value)).toEqual([5300, 6_000_150]);
  });

  it('breaks requests down by status code, and lists the pages not found', async () => {
    const byStatus = await day({ metric: 'requests', breakdown: 'status' });
    expect(Object.fromEntries(byStatus.rows.filter((r) => r.value).map((r) => [r.status, r.value]))).toEqual({
      '200': 8,
      '404': 3,
      '500': 1,
    });
    const notFound = await day({ metric: 'requests', filters: { status: '404' }, breakdown: 'path' });
    expect(Object.fromEntries(notFound.rows.filter((r) => r.value).map((r) => [r.path, r.value]))).toEqual({
      '/old': 2,
      '/gone': 1,
    });
  });

  it('counts the visits that met an error', async () => {
    expect((await day({ metric: 'visits', filters: { status: '404' } })).rows[0]!.value).toBe(2);
  });
});
