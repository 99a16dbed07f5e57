/**
 * Bulk load alone, for profiling (`node --cpu-prof --import tsx bench/bulk-load.ts`):
 * N entries of `value` bytes in batches of 1000 with `sync: 'none'`, then `checkpoint()`,
 * as in storage-bench.ts section 1. Prints ns/entry for the writes and the checkpoint.
 *
 *   npx tsx bench/bulk-load.ts [--keys 1000000] [--value 128] [--order random|ascending]
 *     [--rounds 1]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { benchFlags, makeDataset } from '@alex/test-support/bench'
import { AlexStorage } from '../src/index.js'
import { BULK_LOAD_OPTIONS, writeInBatches } from './workload.js'

const { numbers, choices } = benchFlags(process.argv.slice(2), {
  usage: `Usage: npx tsx bench/bulk-load.ts [--keys 1000000] [--value 128] [--order random|ascending]
    [--rounds 1]`,
  numbers: { keys: 1_000_000, value: 128, rounds: 1 },
  choices: { order: ['random', 'ascending'] },
})
const N = numbers.keys
const VALUE = numbers.value
const ORDER = choices.order
const ROUNDS = numbers.rounds
const BATCH = 1000

async function main(): Promise<void> {
  const { keys, values } = makeDataset(N, VALUE)
  if (ORDER === 'ascending') keys.sort()
  for (let r = 0; r < ROUNDS; r++) {
    const root = mkdtempSync(join(tmpdir(), 'alex-bulk-'))
    try {
      const t0 = performance.now()
      const db = await AlexStorage.open(join(root, 'db'), BULK_LOAD_OPTIONS)
      await writeInBatches(db, keys, values, VALUE, BATCH)
      const t1 = performance.now()
      await db.checkpoint()
      const t2 = performance.now()
      await db.close()
      console.log(
        `${ORDER}: ${(((t2 - t0) * 1e6) / N).toFixed(0)} ns/entry (writes ${(((t1 - t0) * 1e6) / N).toFixed(0)}, checkpoint ${(((t2 - t1) * 1e6) / N).toFixed(0)})`,
      )
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  }
}

void main()
