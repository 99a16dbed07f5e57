#!/usr/bin/env node
/**
 * `pnpm bench`: step 1 builds the packages the bench imports (turbo, with their output shown, so
 * a first build of a minute or more is not silent; a few seconds when nothing changed), step 2
 * runs the bench CLI (src/cli.ts) with the arguments given. `--no-build` skips step 1.
 * Plain JavaScript so it runs before anything is built.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..')
const REPO_DIR = join(PACKAGE_DIR, '..')
const args = process.argv.slice(2).filter((a) => a !== '--')
const skipBuild = args.includes('--no-build') || args.includes('--help')

function seconds(t0) {
  return Math.round((performance.now() - t0) / 100) / 10
}

if (!skipBuild) {
  const turbo = join(
    REPO_DIR,
    'node_modules',
    '.bin',
    process.platform === 'win32' ? 'turbo.cmd' : 'turbo',
  )
  console.log(
    'step 1/2: building @alex/index, @alex/wal, @alex/storage and @alex/compare (turbo run build; ' +
      'about 1-2 minutes on a fresh checkout of a 2-core machine, seconds when cached)',
  )
  const t0 = performance.now()
  const build = spawnSync(
    existsSync(turbo) ? turbo : 'turbo',
    ['run', 'build', '--filter=@alex/benchmarks...', '--output-logs=new-only'],
    { cwd: REPO_DIR, stdio: 'inherit' },
  )
  if (build.status !== 0) {
    console.error(
      `build failed (${build.error?.message ?? `exit code ${build.status}`}); nothing was measured`,
    )
    process.exit(build.status || 1)
  }
  console.log(`built in ${seconds(t0)} s\nstep 2/2: the benchmark`)
}

const run = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    join(PACKAGE_DIR, 'src', 'cli.ts'),
    ...args.filter((a) => a !== '--no-build'),
  ],
  { cwd: PACKAGE_DIR, stdio: 'inherit' },
)
process.exit(run.status ?? 1)
