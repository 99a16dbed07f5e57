/**
 * The storage benchmarks' deterministic data set (packages/storage/bench and the LevelDB
 * comparison it runs through @alex/compare, leveldb-get.ts): both build the same keys.
 */
import { Random } from './random.js'

/**
 * `n` distinct random keys (integers in [0, 2^31)) and their values, all in one buffer (value i
 * is bytes [i * valueSize, (i + 1) * valueSize)), so the benchmark's own data adds no million
 * small objects to the heap the measured code runs in.
 */
export function makeDataset(
  n: number,
  valueSize: number,
): { keys: Float64Array; values: Uint8Array } {
  const random = new Random(12345)
  const seen = new Set<number>()
  const keys = new Float64Array(n)
  for (let i = 0; i < n; ) {
    const k = random.nextUint32() >>> 1
    if (seen.has(k)) continue
    seen.add(k)
    keys[i++] = k
  }
  const values = new Uint8Array(n * valueSize)
  for (let i = 0; i < values.length; i += 4) values[i] = (i * 31) & 255
  return { keys, values }
}

/** The random-get queries of the storage bench: `count` keys of `keys` drawn with seed 999. */
export function makeQueries(keys: Float64Array, count: number): Float64Array {
  const random = new Random(999)
  const queries = new Float64Array(count)
  for (let i = 0; i < count; i++) queries[i] = keys[random.nextUint32() % keys.length]!
  return queries
}
