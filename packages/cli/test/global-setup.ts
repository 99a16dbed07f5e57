import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The tests spawn the built bin (dist/index.js, the `alexstorage` command), as a user runs it. Under turbo the test
 * task depends on this package's build (packages/cli/turbo.json), so the bin is there and fresh;
 * a direct `vitest run` builds it here if it is missing or older than a file in src/.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const bin = join(root, 'dist', 'index.js')
  if (process.env.TURBO_HASH !== undefined && existsSync(bin)) return
  if (existsSync(bin) && newest(join(root, 'src')) <= statSync(bin).mtimeMs) return
  const require = createRequire(import.meta.url)
  const tsupPackage = require.resolve('tsup/package.json')
  const tsupBin = (JSON.parse(readFileSync(tsupPackage, 'utf8')) as { bin: Record<string, string> })
    .bin.tsup!
  execFileSync(process.execPath, [join(dirname(tsupPackage), tsupBin)], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  if (!existsSync(bin)) throw new Error(`the build made no ${bin}`)
}

function newest(dir: string): number {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return latest
}
