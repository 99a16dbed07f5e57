/**
 * The LevelDB half of the storage bench's random-get comparison (packages/storage/bench/
 * storage-bench.ts runs this file in a child process, with its own tsx loader). LevelDB is
 * reached through @alex/compare's engine, which @alex/storage cannot depend on (@alex/compare
 * depends on @alex/storage).
 *
 *   npx tsx src/leveldb-get.ts --keys N --value BYTES --rounds R
 *
 * Loads the storage bench's data set (makeDataset) in batches of 10,000, then times `get`
 * (classic-level's getSync) over the first min(2N, 200,000) of the storage bench's queries
 * (makeQueries), consuming every value (length and first byte). Prints one JSON line on stdout:
 * `{"nsPerGet":[...]}`, one figure per round.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { leveldbEngine } from '@alex/compare'
import { benchFlags, makeDataset, makeQueries } from '@alex/test-support/bench'

const { numbers } = benchFlags(process.argv.slice(2), {
  usage: 'Usage: npx tsx src/leveldb-get.ts --keys N --value BYTES --rounds R',
  numbers: { keys: 1_000_000, value: 128, rounds: 3 },
})
const N = numbers.keys
const VALUE = numbers.value

const root = mkdtempSync(join(tmpdir(), 'alex-leveldb-get-'))
try {
  const { keys, values } = makeDataset(N, VALUE)
  const store = await leveldbEngine.open(join(root, 'level'), { durable: false })
  for (let i = 0; i < N; i += 10_000) {
    const ops = []
    for (let j = i; j < Math.min(N, i + 10_000); j++) {
      ops.push({
        type: 'put' as const,
        key: keys[j]!,
        value: values.subarray(j * VALUE, (j + 1) * VALUE),
      })
    }
    await store.batch(ops)
  }
  const queries = makeQueries(keys, Math.min(2 * N, 200_000))
  let sink = 0
  const nsPerGet: number[] = []
  for (let r = 0; r < numbers.rounds; r++) {
    const t = performance.now()
    for (let i = 0; i < queries.length; i++) {
      // Synchronous for this engine (capabilities.syncGet): classic-level's getSync.
      const v = store.get(queries[i]!) as Uint8Array
      sink += v.length + v[0]!
    }
    nsPerGet.push(((performance.now() - t) * 1e6) / queries.length)
  }
  await store.close()
  if (sink === 42) console.error('')
  console.log(JSON.stringify({ nsPerGet }))
} finally {
  rmSync(root, { recursive: true, force: true })
}
