import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync } from 'node:fs'
import { open, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { ReplicationError, ReplicationErrorCode } from './errors.js'

/**
 * What a store remembers of its replication to one bucket and prefix, in
 * `<store dir>/replication/<id>.json` (id: 16 hex digits of SHA-256 of bucket and prefix). It is
 * how a writer that restarts proves the prefix's history is its own (docs/replication-format.md,
 * "Fencing"): the last log object it confirmed, and the one it was about to create (`intent`,
 * written durably before the PUT, so a PUT whose response was lost is recognised afterwards).
 * The store's own files ignore the directory (no store file name matches it); `db.backup()`
 * does not copy it, so a backup copy never passes for the original.
 */
export interface LocalState {
  version: 1
  bucket: string
  prefix: string
  /** 32 hex digits: the lineage this store's history belongs to. */
  lineage: string
  /** Lineage LSN = the local store's LSN + `lsnOffset` (non-zero for a restored store). */
  lsnOffset: number
  /** The last log object confirmed in the bucket as this store's: seq, last LSN, checksum. */
  seq: number
  lastLsn: number
  checksum: string
  /** The log object being created: if the bucket holds exactly it, it is this store's. */
  intent?: { seq: number; lastLsn: number; checksum: string } | undefined
  /** A replica's: when the writer shipped the last object applied (its clock, ms). */
  lastShippedAt?: number | undefined
  /** Set once fenced: this store never writes to the prefix again (the reason). */
  fenced?: string | undefined
}

/** The directory the state files live in, inside a store's directory. */
export const STATE_DIR = 'replication'

/** Path of the state file of `bucket`/`prefix` in the store directory `dir`. */
export function statePath(dir: string, bucket: string, prefix: string): string {
  const id = createHash('sha256').update(`${bucket}\0${prefix}`).digest('hex').slice(0, 16)
  return join(dir, STATE_DIR, `${id}.json`)
}

/** The state, or undefined if none was written. A damaged file is `ERR_REPLICATION_LOCAL`. */
export function readState(dir: string, bucket: string, prefix: string): LocalState | undefined {
  const path = statePath(dir, bucket, prefix)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new ReplicationError(ReplicationErrorCode.LOCAL, `cannot read ${path}`, { cause: err })
  }
  try {
    const state = JSON.parse(text) as LocalState
    if (state.version !== 1 || state.bucket !== bucket || state.prefix !== prefix) {
      throw new Error('not a state file of this bucket and prefix')
    }
    return state
  } catch (err) {
    throw new ReplicationError(ReplicationErrorCode.LOCAL, `damaged replication state ${path}`, {
      cause: err,
    })
  }
}

/** Writes the state durably: a temp file, fsynced, renamed over, the directory fsynced. */
export async function writeState(dir: string, state: LocalState): Promise<void> {
  const path = statePath(dir, state.bucket, state.prefix)
  const stateDir = join(dir, STATE_DIR)
  const temp = `${path}.tmp`
  try {
    mkdirSync(stateDir, { recursive: true })
    const file = await open(temp, 'w')
    try {
      await file.writeFile(JSON.stringify(state))
      await file.sync()
    } finally {
      await file.close()
    }
    await rename(temp, path)
    const d = await open(stateDir, 'r')
    try {
      await d.sync()
    } finally {
      await d.close()
    }
  } catch (err) {
    throw new ReplicationError(ReplicationErrorCode.LOCAL, `cannot write ${path}`, { cause: err })
  }
}
