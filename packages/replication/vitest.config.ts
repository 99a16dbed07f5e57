import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The acceptance suites' real S3 gateway (test/acceptance/global-setup.ts): started as root
    // when the run includes them, skipped (or, with CI set, failed) when it cannot be.
    globalSetup: ['test/acceptance/global-setup.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest/report.json' },
    // Tests wait for conditions, not for time; this is only the backstop for a hung test on a
    // loaded 2-core machine (see packages/storage/vitest.config.ts).
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
})
