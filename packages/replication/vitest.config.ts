import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest/report.json' },
    // Tests wait for conditions, not for time; this is only the backstop for a hung test on a
    // loaded 2-core machine (see packages/storage/vitest.config.ts).
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
})
