/**
 * The LevelDB half of the storage package's ingest bench (packages/storage/bench/ingest-bench.ts
 * runs this file in a child process, with its own tsx loader; @alex/storage cannot depend on
 * @alex/compare, which depends on it). LevelDB is reached through @alex/compare's engine.
 *
 *   npx tsx src/leveldb-load.ts --keys N --value BYTES --rounds R
 *
 * Each round loads the ingest bench's data set (makeDataset, keys ascending) into a new LevelDB
 * store in batches of 1,000 without syncing, then syncs once (the bench's bulk-load workload, on
 * the same entries `db.ingest` gets), and times it all. Prints one JSON line on stdout:
 * `{"nsPerEntry":[...]}`, one figure per round.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { leveldbEngine } from '@alex/compare'
import { benchFlags, makeDataset } from '@alex/test-support/bench'

const { numbers } = benchFlags(process.argv.slice(2), {
  usage: 'Usage: npx tsx src/leveldb-load.ts --keys N --value BYTES --rounds R',
  numbers: { keys: 1_000_000, value: 128, rounds: 3 },
})
const N = numbers.keys
const VALUE = numbers.value
const BATCH = 1000

const data = makeDataset(N, VALUE)
const order = Array.from({ length: N }, (_, i) => i).sort((a, b) => data.keys[a]! - data.keys[b]!)
const nsPerEntry: number[] = []
for (let r = 0; r < numbers.rounds; r++) {
  const root = mkdtempSync(join(tmpdir(), 'alex-leveldb-load-'))
  try {
    const store = await leveldbEngine.open(join(root, 'level'), { durable: false })
    const t = performance.now()
    for (let i = 0; i < N; i += BATCH) {
      const ops = []
      for (let j = i; j < Math.min(N, i + BATCH); j++) {
        const e = order[j]!
        ops.push({
          type: 'put' as const,
          key: data.keys[e]!,
          value: data.values.subarray(e * VALUE, (e + 1) * VALUE),
        })
      }
      await store.batch(ops)
    }
    await store.sync()
    nsPerEntry.push(((performance.now() - t) * 1e6) / N)
    await store.close()
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}
console.log(JSON.stringify({ nsPerEntry }))
