import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The tests spawn the built bin: build it first if it is missing or older than src/.
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest/report.json' },
    testTimeout: 300_000, // a backstop for a hung test (see packages/storage/vitest.config.ts)
    hookTimeout: 300_000,
  },
})
