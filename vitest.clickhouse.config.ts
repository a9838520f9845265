import { defineConfig } from 'vitest/config';

// `npm run test:clickhouse`: the store-level suites again, on a real ClickHouse engine (26.7, see
// test/clickhouse/engine.ts), and the tests only ClickHouse has (several gateways on one store).
process.env.BALISE_TEST_STORES ??= 'clickhouse';

export default defineConfig({
  test: {
    include: [
      'test/store.contract.test.ts',
      'test/insights.series.test.ts',
      'test/insights.rollup.test.ts',
      'test/insights.detect.test.ts',
      'test/insights.election.test.ts',
      'test/insights.visits.test.ts',
      'test/plausible.test.ts',
      'test/insights.requests.test.ts',
      'test/insights.goals.test.ts',
      'test/insights.properties.test.ts',
      'test/import.test.ts',
      'test/alerts.test.ts',
      'test/clickhouse/**/*.test.ts',
    ],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
  },
});
