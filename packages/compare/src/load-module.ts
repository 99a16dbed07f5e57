/**
 * Lazy loading of engine packages. The native engines are optional peer dependencies: a user
 * who benchmarks only LMDB need not compile better-sqlite3. Loading is deferred to `open()`,
 * and a missing package fails with ERR_ENGINE_NOT_INSTALLED naming what to install.
 */
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { CompareError, ErrorCode } from './errors.js'

const requireHere = createRequire(import.meta.url)

function isNotFound(err: unknown, packageName: string): boolean {
  const e = err as { code?: string; message?: string } | undefined
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' && e?.code !== 'MODULE_NOT_FOUND') return false
  return typeof e.message === 'string' && e.message.includes(packageName)
}

/**
 * Imports `packageName` and returns its module namespace; throws ERR_ENGINE_NOT_INSTALLED when
 * the package cannot be found. Use {@link exportOf} to take an export from it.
 */
export async function loadEngineModule(packageName: string, engineName: string): Promise<unknown> {
  try {
    return await import(packageName)
  } catch (err) {
    if (isNotFound(err, packageName)) {
      throw new CompareError(
        ErrorCode.ENGINE_NOT_INSTALLED,
        `${engineName} needs the npm package "${packageName}": install it next to @alex/compare`,
        { cause: err },
      )
    }
    throw err
  }
}

/**
 * Takes export `name` from a loaded module (or the module's default export when `name` is
 * omitted), looking through the `default` wrapper that Node puts around CommonJS modules.
 */
export function exportOf<T>(mod: unknown, name?: string): T {
  const m = mod as Record<string, unknown>
  if (name === undefined) return (m.default ?? m) as T
  const wrapped = m.default as Record<string, unknown> | undefined
  const found = m[name] ?? wrapped?.[name]
  if (found === undefined) throw new TypeError(`module has no export named ${name}`)
  return found as T
}

/** The installed version of `packageName`, or 'not installed'. Does not load the package. */
export function packageVersion(packageName: string): string {
  let entry: string
  try {
    entry = requireHere.resolve(packageName)
  } catch {
    return 'not installed'
  }
  // Walk up from the resolved entry file to the package's own package.json.
  let dir = dirname(entry)
  for (;;) {
    const file = join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string }
      if (pkg.name === packageName) return pkg.version ?? 'unknown'
    }
    const parent = dirname(dir)
    if (parent === dir) return 'unknown'
    dir = parent
  }
}
