import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // 2 cores: PGlite (WASM) and the server suites are CPU-bound
    maxWorkers: 2,
  },
});
