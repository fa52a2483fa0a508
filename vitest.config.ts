import { defineConfig } from 'vitest/config';

/**
 * Three projects: `unit` (pure planners and parsers, no database, no build:
 * `npm run test:unit` runs in seconds), `integration` (PGlite and the
 * server), `e2e` (the built binary; `npm test` builds first).
 */
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // 2 cores: PGlite (WASM) and the server suites are CPU-bound
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        // one line when the Citus suites are skipped (an error under CI)
        test: { name: 'integration', include: ['test/integration/**/*.test.ts'], globalSetup: ['test/support/citus-global-setup.ts'] },
      },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'] } },
    ],
  },
});
