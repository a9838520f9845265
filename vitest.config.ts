import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The fault suite runs on its own, one file at a time (vitest.reliability.config.ts); the
    // ClickHouse suite on its own too (vitest.clickhouse.config.ts).
    exclude: ['test/reliability/**', 'test/clickhouse/**', 'node_modules/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Browser and child-process tests share two cores; keep the load predictable.
    maxWorkers: 2,
  },
});
