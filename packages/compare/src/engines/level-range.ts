/**
 * Range options in the abstract-level shape (gt/gte/lt/lte as encoded keys, limit, reverse),
 * shared by the LevelDB and RocksDB adapters, and the key they use to force a sync.
 */
import { encodeKey } from '../key-encoding.js'
import type { Bounds } from '../range.js'

/** abstract-level iterator options for byte-encoded keys. */
export interface LevelRangeOptions {
  gt?: Buffer
  gte?: Buffer
  lt?: Buffer
  lte?: Buffer
  reverse: boolean
  limit: number
}

/**
 * A 9-byte key: never a valid encoded key (those are 8 bytes), deleted with `sync: true` to
 * fsync the log of a store opened without per-write durability. It is only ever deleted, so
 * it never appears in a scan.
 */
export const SYNC_SENTINEL_KEY: Buffer = Buffer.alloc(9, 0xff)

/** Converts normalised bounds to abstract-level options (limit -1 means no cap). */
export function levelRangeOptions(b: Bounds): LevelRangeOptions {
  const o: LevelRangeOptions = {
    reverse: b.reverse,
    limit: Number.isFinite(b.limit) ? b.limit : -1,
  }
  if (b.low !== undefined) {
    if (b.lowInclusive) o.gte = encodeKey(b.low)
    else o.gt = encodeKey(b.low)
  }
  if (b.high !== undefined) {
    if (b.highInclusive) o.lte = encodeKey(b.high)
    else o.lt = encodeKey(b.high)
  }
  return o
}
