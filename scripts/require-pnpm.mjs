#!/usr/bin/env node
// `prepack` guard of every published package: packing or publishing must go through pnpm
// (`pnpm release`, `pnpm publish`, `pnpm pack`), never npm or yarn. Only pnpm rewrites the
// `workspace:^` ranges between our packages into real versions; a tarball made by `npm pack` or
// `npm publish` keeps them, and installing it fails with EUNSUPPORTEDPROTOCOL.
// It also refuses to pack a package whose build output is missing (run `pnpm build` first).
//
// The package manager running a lifecycle script (also with --dry-run) sets npm_execpath to its
// own entry point and npm_config_user_agent to "pnpm/10.x npm/? node/v22 ..." or "npm/11.x ...".
// Both are checked: npm run from inside a pnpm script inherits pnpm's user agent (npm reads the
// variable as its own user-agent setting) but sets npm_execpath to npm-cli.js.
import { existsSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'

const cwd = process.cwd()
const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'))
// biome-ignore lint/suspicious/noUndeclaredEnvVars: set by the package manager running this script
const agent = process.env.npm_config_user_agent ?? ''
// biome-ignore lint/suspicious/noUndeclaredEnvVars: set by the package manager running this script
const execPath = process.env.npm_execpath
const isPnpm =
  agent.startsWith('pnpm/') &&
  (execPath === undefined || /^pnpm(\.c?js|\.mjs|\.exe)?$/i.test(basename(execPath)))

if (!isPnpm) {
  const tool = (agent.startsWith('pnpm/') ? execPath : agent.split(' ')[0]) || 'an unknown tool'
  console.error(
    [
      '',
      `ERROR: ${pkg.name} must be packed and published with pnpm, not ${tool}.`,
      `  Its dependencies use "workspace:^" ranges, which only pnpm rewrites into versions; a`,
      '  tarball made by npm or yarn keeps them and fails to install (EUNSUPPORTEDPROTOCOL).',
      '  Release:      pnpm release            (builds, then changeset publish, which uses pnpm)',
      '  One package:  pnpm build && pnpm --filter <name> publish',
      '  Tarball:      pnpm pack               (in the package directory)',
      '  See docs/release.md.',
      '',
    ].join('\n'),
  )
  process.exit(1)
}

const missing = []
for (const target of Object.values(pkg.exports ?? {})) {
  for (const file of JSON.stringify(target).match(/\.\/dist\/[^"]+/g) ?? []) {
    if (!existsSync(join(cwd, file))) missing.push(file)
  }
}
if (missing.length > 0) {
  console.error(
    `\nERROR: ${pkg.name} is not built (missing ${missing.join(', ')}): run \`pnpm build\` first.\n`,
  )
  process.exit(1)
}
