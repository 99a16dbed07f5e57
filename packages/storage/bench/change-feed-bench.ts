/**
 * Writer throughput with a live change-feed consumer against none (issue 12). Ratios within one
 * run on the same machine; absolute figures are for orientation only (the machine is shared).
 *
 *   npx tsx bench/change-feed-bench.ts [--ops 100000] [--value 128] [--rounds 3]
 *
 * 1. 64 concurrent durable writers (`sync: 'always'`, group commit): puts per second;
 * 2. batches of 1000 puts with `sync: 'none'` (a bulk load): puts per second.
 * Each with no consumer, then with one `for await (const c of db.changes())` loop that reads
 * every change as it becomes visible (and checks it got all of them). Median of the rounds.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { benchFlags, median } from '@alex/test-support/bench'
import { AlexStorage, type AlexStorageOptions } from '../src/index.js'

const { numbers } = benchFlags(process.argv.slice(2), {
  usage: 'Usage: npx tsx bench/change-feed-bench.ts [--ops 100000] [--value 128] [--rounds 3]',
  numbers: { ops: 100_000, value: 128, rounds: 3 },
})
const OPS = numbers.ops
const VALUE = numbers.value
const ROUNDS = numbers.rounds
const root = mkdtempSync(join(tmpdir(), 'alex-feed-bench-'))
let runs = 0

type Workload = (db: AlexStorage, value: Uint8Array) => Promise<void>

/** 64 callers, each awaiting its own durable put before the next. */
const concurrentPuts: Workload = async (db, value) => {
  let next = 0
  const caller = async () => {
    for (let i = next++; i < OPS; i = next++) await db.put(i, value)
  }
  await Promise.all(Array.from({ length: 64 }, caller))
}

/** Batches of 1000 puts, one after the other. */
const batches: Workload = async (db, value) => {
  const ops = Array.from({ length: 1000 }, (_, i) => ({ type: 'put' as const, key: i, value }))
  for (let i = 0; i < OPS; i += 1000) {
    for (let j = 0; j < 1000; j++) ops[j]!.key = i + j
    await db.batch(ops)
  }
}

/** Puts per second of `workload`, with or without a consumer following every change. */
async function run(options: AlexStorageOptions, workload: Workload, consumer: boolean) {
  const db = await AlexStorage.open(join(root, `db-${runs++}`), options)
  const value = new Uint8Array(VALUE).fill(7)
  let seen = 0
  let following: Promise<void> | undefined
  if (consumer) {
    const feed = db.changes()
    following = (async () => {
      for await (const c of feed) {
        seen += c.value === undefined ? 0 : 1
        if (seen === OPS) break
      }
    })()
  }
  const t0 = performance.now()
  await workload(db, value)
  const seconds = (performance.now() - t0) / 1000
  await following
  if (consumer && seen !== OPS) throw new Error(`the consumer saw ${seen} of ${OPS} changes`)
  await db.close()
  return OPS / seconds
}

async function compare(name: string, options: AlexStorageOptions, workload: Workload) {
  const without: number[] = []
  const withFeed: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    without.push(await run(options, workload, false))
    withFeed.push(await run(options, workload, true))
  }
  const a = median(without)
  const b = median(withFeed)
  console.log(`${name}`)
  console.log(`  no consumer:   ${Math.round(a).toLocaleString('en')} puts/s`)
  console.log(`  one consumer:  ${Math.round(b).toLocaleString('en')} puts/s`)
  console.log(`  ratio with / without: ${(b / a).toFixed(2)}`)
}

async function main(): Promise<void> {
  try {
    console.log(`${OPS} puts of ${VALUE} B, median of ${ROUNDS}`)
    await compare('64 concurrent durable writers (sync always)', { sync: 'always' }, concurrentPuts)
    await compare('batches of 1000 (sync none)', { sync: 'none' }, batches)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

void main()
