import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir as sharedTempDir } from '@alex/test-support'

/** The shared helpers (one copy each, in @alex/test-support); the store's prefix for temp dirs. */
export { rng, valueFor } from '@alex/test-support'

/** A fresh temp directory, removed by the returned cleanup. */
export function tempDir(prefix = 'alex-storage-'): { dir: string; cleanup: () => void } {
  return sharedTempDir(prefix)
}

/** Every file's name and bytes (sub-directories included), as one digest. */
export function hashDir(dir: string): string {
  const h = createHash('sha256')
  const walk = (d: string, prefix: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p, `${prefix}${name}/`)
      else h.update(`${prefix}${name}\0`).update(readFileSync(p)).update('\0')
    }
  }
  walk(dir, '')
  return h.digest('hex')
}
