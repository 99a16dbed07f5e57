/**
 * Memory of a process, for the extra memory a reader costs: RSS, and on Linux the private part
 * (Private_Clean + Private_Dirty of /proc/self/smaps_rollup), since RSS also counts pages of
 * files mapped into the process (LMDB's map) that every process shares through the page cache.
 * Readings are taken after a full garbage collection, so they show what is retained.
 */
import { readFileSync } from 'node:fs'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

let gcFn: (() => void) | undefined

/** A full garbage collection (gc exposed at run time: no --expose-gc flag needed). */
export function fullGc(): void {
  if (gcFn === undefined) {
    setFlagsFromString('--expose_gc')
    gcFn = runInNewContext('gc') as () => void
  }
  gcFn()
}

/** RSS of this process, in bytes. */
export function rssBytes(): number {
  return process.memoryUsage.rss()
}

/** Private bytes of this process (Linux), or undefined where smaps_rollup is missing. */
export function privateBytes(): number | undefined {
  let text: string
  try {
    text = readFileSync('/proc/self/smaps_rollup', 'utf8')
  } catch {
    return undefined
  }
  let kb = 0
  for (const m of text.matchAll(/^Private_(?:Clean|Dirty):\s+(\d+) kB/gm)) kb += Number(m[1])
  return kb * 1024
}

/** RSS and private bytes after a full GC. */
export function settledMemory(): { rss: number; priv: number | undefined } {
  fullGc()
  return { rss: rssBytes(), priv: privateBytes() }
}
