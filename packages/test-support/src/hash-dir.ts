import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

/**
 * A digest of everything under `dir`: every entry's relative path, kind, size, modification time
 * and (for files) content, in name order. Equal digests before and after an operation prove it
 * changed no byte and touched no file (a refused open, a read-only open, `alexstorage check`).
 * `skip` leaves out entries (and what is under them) by path relative to `dir`: a following
 * reader registers itself under `readers/`, by design, and nowhere else.
 */
export function hashDir(dir: string, options: { skip?: readonly string[] } = {}): string {
  const skip = new Set(options.skip ?? [])
  const hash = createHash('sha256')
  const walk = (path: string): void => {
    const entries = readdirSync(path, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )
    for (const entry of entries) {
      const full = join(path, entry.name)
      if (skip.has(relative(dir, full))) continue
      const stat = statSync(full)
      hash.update(`${relative(dir, full)}\0${entry.isDirectory()}\0${stat.size}\0${stat.mtimeMs}\0`)
      if (entry.isDirectory()) walk(full)
      else hash.update(readFileSync(full))
    }
  }
  walk(dir)
  return hash.digest('hex')
}
