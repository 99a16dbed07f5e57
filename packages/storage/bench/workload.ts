/**
 * What the storage benchmarks share: the bulk-load options and loop, so that `storage-bench.ts`
 * (the targets) and `bulk-load.ts` (profiling) measure the same thing. Their data set
 * (makeDataset) is in the benchmarks toolkit, shared with the LevelDB comparison.
 */
import type { AlexStorage, AlexStorageOptions } from '../src/index.js'

/** Options of a bulk load: no fsync per batch, no checkpoint or compaction until the end. */
export const BULK_LOAD_OPTIONS: AlexStorageOptions = {
  sync: 'none',
  checkpointRecords: 1e12,
  checkpointBytes: 2 ** 50,
  autoCompaction: false,
}

/** Writes every key with its value in atomic batches of `batchSize`, in the order of `keys`. */
export async function writeInBatches(
  db: AlexStorage,
  keys: Float64Array,
  values: Uint8Array,
  valueSize: number,
  batchSize: number,
): Promise<void> {
  const n = keys.length
  const ops = Array.from({ length: batchSize }, () => ({
    type: 'put' as const,
    key: 0,
    value: values.subarray(0, valueSize),
  }))
  for (let i = 0; i < n; i += batchSize) {
    const count = Math.min(batchSize, n - i)
    if (count < batchSize) ops.length = count
    for (let j = 0; j < count; j++) {
      ops[j]!.key = keys[i + j]!
      ops[j]!.value = values.subarray((i + j) * valueSize, (i + j + 1) * valueSize)
    }
    await db.batch(ops)
  }
}
