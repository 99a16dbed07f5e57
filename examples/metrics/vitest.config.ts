import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest/report.json' },
    // Tests wait for conditions, not for time; this is only the backstop for a hung test.
    testTimeout: 120_000,
  },
})
