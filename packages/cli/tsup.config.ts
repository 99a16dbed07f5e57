import { defineConfig } from 'tsup'

export default defineConfig({
  // A bin only, so ESM only: nothing `require`s a command-line tool (see the README).
  entry: { alexstorage: 'src/alexstorage.ts' },
  format: ['esm'],
  dts: false,
  banner: { js: '#!/usr/bin/env node' },
  // No source maps, as in the other packages (docs/release.md).
  sourcemap: false,
  clean: true,
  target: 'node20',
})
