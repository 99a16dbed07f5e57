import { defineConfig } from 'tsup'

export default defineConfig({
  // A bin only, so ESM only: nothing `require`s a command-line tool (see the README). Built as
  // dist/index.js, the file every package's tarball has (scripts/release-dry-run.mjs checks it).
  entry: { index: 'src/alexstorage.ts' },
  format: ['esm'],
  dts: false,
  banner: { js: '#!/usr/bin/env node' },
  // No source maps, as in the other packages (docs/release.md).
  sourcemap: false,
  clean: true,
  target: 'node20',
})
