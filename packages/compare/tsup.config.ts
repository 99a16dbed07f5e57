import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // load-module.ts resolves engine packages relative to import.meta.url, also in the CJS build.
  shims: true,
})
