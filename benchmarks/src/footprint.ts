/**
 * Memory and disk footprint of one engine's child (issue #14): the child's peak RSS and the
 * bytes its store occupies on disk, measured inside the child and carried in its `done`
 * message. Bytes on disk are given twice, because they differ for preallocated files (LMDB's
 * map file, SQLite's or a WAL's preallocation) and sparse files: the apparent size (the sum of
 * the files' lengths, `ls -l`) and the allocated blocks (`st_blocks * 512`, `du`), which is what
 * the store really takes from the disk.
 */
import { lstatSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { median } from './measure.js'

/** Size of a directory tree, in bytes. */
export interface DiskSize {
  /** Sum of the regular files' lengths (what `ls -l` shows). */
  readonly apparent: number
  /** Sum of the blocks allocated to files and directories, `st_blocks * 512` (what `du` counts). */
  readonly allocated: number
}

/**
 * Recursive size of `dir`: every regular file's length, and the blocks of every file and
 * directory (the directory itself included). Symbolic links are counted as themselves, never
 * followed; a file removed while the tree is walked (a compaction finishing) is skipped.
 */
export function directorySize(dir: string): DiskSize {
  let apparent = 0
  let allocated = 0
  const walk = (path: string): void => {
    let st: ReturnType<typeof lstatSync>
    try {
      st = lstatSync(path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    allocated += Number(st.blocks) * 512
    if (st.isFile()) apparent += Number(st.size)
    else if (st.isDirectory()) {
      let names: string[]
      try {
        names = readdirSync(path)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
        throw err
      }
      for (const name of names) walk(join(path, name))
    }
  }
  walk(dir)
  return { apparent, allocated }
}

/** Peak resident set size of this process so far, in bytes (`getrusage` ru_maxrss, KiB on Linux). */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024
}

/** One child's footprint: one engine, one repetition. */
export interface Footprint {
  /** Peak RSS of the child over its whole run, read at its end, in bytes. */
  readonly peakRssBytes: number
  /**
   * RSS before the store was opened, with the data set and the harness's arrays built: the
   * harness's own share of the peak, in bytes.
   */
  readonly harnessRssBytes: number
  /** Keys in the store after the load, and its size then (after its final sync). */
  readonly keysAfterLoad: number
  readonly diskAfterLoad: DiskSize
  /** Keys in the store after the last workload, and its size then (before it is closed). */
  readonly keysAfterWorkloads: number
  readonly diskAfterWorkloads: DiskSize
}

/** Medians of an engine's footprints over its repetitions (the JSON results' `footprints`). */
export interface EngineFootprint extends Footprint {
  readonly engine: string
  readonly reps: readonly Footprint[]
}

/** The median of each figure over the repetitions; undefined when there is none. */
export function medianFootprint(
  engine: string,
  reps: readonly Footprint[],
): EngineFootprint | undefined {
  if (reps.length === 0) return undefined
  const m = (f: (x: Footprint) => number): number => median(reps.map(f))
  return {
    engine,
    peakRssBytes: m((x) => x.peakRssBytes),
    harnessRssBytes: m((x) => x.harnessRssBytes),
    keysAfterLoad: m((x) => x.keysAfterLoad),
    diskAfterLoad: {
      apparent: m((x) => x.diskAfterLoad.apparent),
      allocated: m((x) => x.diskAfterLoad.allocated),
    },
    keysAfterWorkloads: m((x) => x.keysAfterWorkloads),
    diskAfterWorkloads: {
      apparent: m((x) => x.diskAfterWorkloads.apparent),
      allocated: m((x) => x.diskAfterWorkloads.allocated),
    },
    reps,
  }
}

/** Bytes in binary units: `812 B`, `1.5 KiB`, `37.2 MiB`, `1.29 GiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = bytes / 1024
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[u]}`
}

/** Bytes per key, `n/a` without keys. */
export function bytesPerKey(bytes: number, keys: number): string {
  return keys > 0 ? (bytes / keys).toFixed(1) : 'n/a'
}
