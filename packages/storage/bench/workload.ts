/**
 * What the storage benchmarks share: the deterministic data set and the bulk-load loop, so that
 * `storage-bench.ts` (the targets) and `bulk-load.ts` (profiling) measure the same thing.
 */
import type { AlexStorage, AlexStorageOptions } from '../src/index.js'

/** Options of a bulk load: no fsync per batch, no checkpoint or compaction until the end. */
export const BULK_LOAD_OPTIONS: AlexStorageOptions = {
  sync: 'none',
  checkpointRecords: 1e12,
  checkpointBytes: 2 ** 50,
  autoCompaction: false,
}

/** A xorshift32 generator: deterministic, so runs are comparable. */
export function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return x >>> 0
  }
}

/**
 * `n` distinct random keys (integers in [0, 2^31)) and their values, all in one buffer (value i
 * is bytes [i * valueSize, (i + 1) * valueSize)), so the benchmark's own data adds no million
 * small objects to the heap the measured code runs in.
 */
export function makeDataset(
  n: number,
  valueSize: number,
): { keys: Float64Array; values: Uint8Array } {
  const next = xorshift(12345)
  const seen = new Set<number>()
  const keys = new Float64Array(n)
  for (let i = 0; i < n; ) {
    const k = next() >>> 1
    if (seen.has(k)) continue
    seen.add(k)
    keys[i++] = k
  }
  const values = new Uint8Array(n * valueSize)
  for (let i = 0; i < values.length; i += 4) values[i] = (i * 31) & 255
  return { keys, values }
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
