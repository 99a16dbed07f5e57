import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest/report.json' },
    // Tests wait for conditions, not for time; this is only the backstop for a hung test. The
    // heaviest ones (power cuts at every crash point, SIGKILL cycles) took over 120 s on a CI
    // machine with both cores busy, so the backstop sits well above that.
    testTimeout: 600_000,
  },
})
