import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The tests spawn the built bin: build it first if it is missing or older than src/. The
    // replication tests need the S3 test gateway: test/s3-gateway-setup.ts (starts it under CI).
    globalSetup: ['test/global-setup.ts', 'test/s3-gateway-setup.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest/report.json' },
    testTimeout: 300_000, // a backstop for a hung test (see packages/storage/vitest.config.ts)
    hookTimeout: 300_000,
  },
})
