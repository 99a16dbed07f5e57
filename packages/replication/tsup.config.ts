import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  // No source maps: they were two thirds of the tarball (they embed the whole TS source) and the
  // unminified dist reads like the source anyway. See docs/release.md.
  sourcemap: false,
  clean: true,
  target: 'node20',
})
