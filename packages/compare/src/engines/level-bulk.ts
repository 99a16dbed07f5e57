/**
 * The bulk-load path of the two LSM engines (LevelDB, RocksDB): chained write batches of
 * {@link LEVEL_BULK_BATCH} entries, written one after another without a sync, the last one with
 * `sync: true`, which makes the log durable up to it (and so every batch before it). Neither
 * binding offers a faster honest path (no SST ingestion in classic-level; the RocksDB binding's
 * is not exposed).
 */
import { asBuffer } from '../guards.js'
import { encodeKey } from '../key-encoding.js'
import type { BulkEntries } from '../types.js'

/** Entries per write batch of a bulk load (1.4 MB at 128-byte values: under the 4 MB memtable). */
export const LEVEL_BULK_BATCH = 10_000

/** The part of a chained batch this path uses (classic-level's and the RocksDB binding's). */
export interface ChainedBatch {
  put(key: Buffer, value: Buffer): void
  write(options: { sync: boolean }): Promise<void>
}

/**
 * Writes `entries` (already validated) in batches; `syncAll` makes everything durable when
 * there is nothing to write.
 */
export async function levelBulkLoad(
  entries: BulkEntries,
  newBatch: () => ChainedBatch,
  syncAll: () => Promise<void>,
): Promise<void> {
  const { keys, values } = entries
  if (keys.length === 0) {
    await syncAll()
    return
  }
  for (let start = 0; start < keys.length; start += LEVEL_BULK_BATCH) {
    const end = Math.min(keys.length, start + LEVEL_BULK_BATCH)
    const batch = newBatch()
    for (let i = start; i < end; i++) batch.put(encodeKey(keys[i] as number), asBuffer(values[i]!))
    await batch.write({ sync: end === keys.length })
  }
}
