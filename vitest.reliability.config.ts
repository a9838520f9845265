import { defineConfig } from 'vitest/config';

// The fault suite (npm run test:reliability): fuzz, overload, kill -9, a full disk, a vendor
// outage, slow clients, SSRF. Each file drives real gateways as child processes; one file at a
// time, so that one test's load does not disturb another's figures.
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    maxWorkers: 1,
    fileParallelism: false,
  },
});
