import { join } from 'node:path'
import { LOCK_FILE, TEMP_SUFFIX, WAL_DIR } from './format.js'

/**
 * Names of the files in a store directory (docs/storage-format.md, section 1) and the listing
 * that sorts a directory's entries into them. The newest valid snapshot is the store's manifest;
 * this module only classifies names, it never decides what is trusted.
 */

/** What a store directory holds, by kind. */
export interface StoreListing {
  /** Data segment ids present, ascending. */
  segments: number[]
  /** Snapshot sequence numbers present, descending (newest first). */
  snapshots: number[]
  /** Names of in-progress files (`*.tmp`), which are never trusted. */
  temps: string[]
  /** Retirement marker floors present, descending (newest first). */
  retired: number[]
}

const SEGMENT_RE = /^data-(\d{10,})\.seg$/
const SNAPSHOT_RE = /^snapshot-(\d{10,})\.snap$/
const RETIRED_RE = /^retired-(\d{10,})$/

function pad(n: number): string {
  return String(n).padStart(10, '0')
}

/** File name of data segment `id`. */
export function segmentName(id: number): string {
  return `data-${pad(id)}.seg`
}

/** File name of snapshot `seq`. */
export function snapshotName(seq: number): string {
  return `snapshot-${pad(seq)}.snap`
}

/**
 * Name of the empty marker file recording that every segment with an id below `floor` was
 * retired by a completed compaction (docs/storage-format.md, section 6).
 */
export function retiredName(floor: number): string {
  return `retired-${pad(floor)}`
}

/** Name of the temporary file a snapshot is written to before its rename. */
export function tempName(name: string): string {
  return name + TEMP_SUFFIX
}

/** Path of the lock file of store `dir`. */
export function lockPath(dir: string): string {
  return join(dir, LOCK_FILE)
}

/** Path of the write-ahead-log directory of store `dir`. */
export function walPath(dir: string): string {
  return join(dir, WAL_DIR)
}

/** Sorts the names in a store directory into segments, snapshots and temp files. */
export function classifyNames(names: readonly string[]): StoreListing {
  const segments: number[] = []
  const snapshots: number[] = []
  const temps: string[] = []
  const retired: number[] = []
  for (const name of names) {
    if (name.endsWith(TEMP_SUFFIX)) {
      temps.push(name)
      continue
    }
    let m = SEGMENT_RE.exec(name)
    if (m !== null) {
      const id = Number(m[1])
      if (Number.isSafeInteger(id)) segments.push(id)
      continue
    }
    m = SNAPSHOT_RE.exec(name)
    if (m !== null) {
      const seq = Number(m[1])
      if (Number.isSafeInteger(seq)) snapshots.push(seq)
      continue
    }
    m = RETIRED_RE.exec(name)
    if (m !== null) {
      const floor = Number(m[1])
      if (Number.isSafeInteger(floor)) retired.push(floor)
    }
  }
  segments.sort((a, b) => a - b)
  snapshots.sort((a, b) => b - a)
  retired.sort((a, b) => b - a)
  return { segments, snapshots, temps, retired }
}
