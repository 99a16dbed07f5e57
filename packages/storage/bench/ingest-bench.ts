/**
 * Bulk ingest (`db.ingest`, docs/architecture.md, section 15) against a `Map` filled with the
 * same entries in the same run, against the batch path (batches of 1000 under `sync: 'none'`,
 * then `checkpoint()`, as bench/bulk-load.ts), and against LevelDB's batch load of the same
 * entries (batches of 1000, then a sync; in a child process: benchmarks/src/leveldb-load.ts).
 * Prints ns/entry, durable at the end (the ingest resolves once its snapshot is durable), and
 * the ratios.
 *
 *   npx tsx bench/ingest-bench.ts [--keys 1000000] [--value 128] [--rounds 3] [--merge 1]
 *     [--leveldb 1]
 *
 * `--merge 1` also ingests the same number of new keys into the store just filled (half of them
 * overwriting existing keys), the non-empty case.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { benchFlags, makeDataset, median } from '@alex/test-support/bench'
import { AlexStorage } from '../src/index.js'
import { BULK_LOAD_OPTIONS, writeInBatches } from './workload.js'

const { numbers } = benchFlags(process.argv.slice(2), {
  usage:
    'Usage: npx tsx bench/ingest-bench.ts [--keys 1000000] [--value 128] [--rounds 3] [--merge 1] [--leveldb 1]',
  numbers: { keys: 1_000_000, value: 128, rounds: 3, merge: 1, leveldb: 1 },
  choices: {},
})
const N = numbers.keys
const VALUE = numbers.value

function ns(ms: number, n: number): number {
  return (ms * 1e6) / n
}

/** ns per entry of LevelDB's batch load, one per round (benchmarks/src/leveldb-load.ts). */
function leveldbLoad(): number[] {
  const script = fileURLToPath(new URL('../../../benchmarks/src/leveldb-load.ts', import.meta.url))
  const args = ['--keys', String(N), '--value', String(VALUE), '--rounds', String(numbers.rounds)]
  const out = execFileSync(process.execPath, [...process.execArgv, script, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return (JSON.parse(out.trim().split('\n').pop()!) as { nsPerEntry: number[] }).nsPerEntry
}

const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`

async function main(): Promise<void> {
  const data = makeDataset(N, VALUE)
  const keys = Float64Array.from(data.keys).sort()
  const values: Uint8Array[] = []
  for (let i = 0; i < N; i++) values.push(data.values.subarray(i * VALUE, (i + 1) * VALUE))
  const mapNs: number[] = []
  const ingestNs: number[] = []
  const mergeNs: number[] = []
  const batchNs: number[] = []
  for (let r = 0; r < numbers.rounds; r++) {
    // A Map filled with the same entries (references to the same values: no copy, no disk).
    let t = performance.now()
    const map = new Map<number, Uint8Array>()
    for (let i = 0; i < N; i++) map.set(keys[i]!, values[i]!)
    mapNs.push(ns(performance.now() - t, N))
    if (map.size !== N) throw new Error('map size')

    const root = mkdtempSync(join(tmpdir(), 'alex-ingest-'))
    try {
      const db = await AlexStorage.open(join(root, 'db'), { autoCompaction: false })
      t = performance.now()
      await db.ingest({ keys, values })
      ingestNs.push(ns(performance.now() - t, N))
      if (db.size !== N) throw new Error('ingest size')
      if (numbers.merge > 0) {
        // N more entries: every other one overwrites an existing key, the rest are new.
        const more = new Float64Array(N)
        for (let i = 0; i < N; i++) more[i] = i % 2 === 0 ? keys[i]! : keys[i]! + 0.5
        more.sort()
        t = performance.now()
        await db.ingest({ keys: more, values })
        mergeNs.push(ns(performance.now() - t, N))
      }
      await db.close()
      const batched = await AlexStorage.open(join(root, 'batched'), BULK_LOAD_OPTIONS)
      t = performance.now()
      await writeInBatches(batched, keys, data.values, VALUE, 1000)
      await batched.checkpoint()
      batchNs.push(ns(performance.now() - t, N))
      await batched.close()
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
    map.clear()
  }
  const level = numbers.leveldb > 0 ? leveldbLoad() : []
  const m = median(mapNs)
  const g = median(ingestNs)
  const b = median(batchNs)
  console.log(`${N} entries of ${VALUE} bytes, ascending keys, medians of ${numbers.rounds} runs`)
  console.log(`Map fill:                 ${m.toFixed(0)} ns/entry (${range(mapNs)})`)
  console.log(
    `ingest (empty store):     ${g.toFixed(0)} ns/entry (${range(ingestNs)}), durable; ${(g / m).toFixed(2)}x the Map fill`,
  )
  if (level.length > 0) {
    const l = median(level)
    console.log(
      `LevelDB batch load:       ${l.toFixed(0)} ns/entry (${range(level)}); ingest is ${(l / g).toFixed(2)}x faster`,
    )
  }
  if (mergeNs.length > 0) {
    const mg = median(mergeNs)
    console.log(
      `ingest (into ${N} keys):  ${mg.toFixed(0)} ns/entry ingested (half overwrite), durable`,
    )
  }
  console.log(
    `batches + checkpoint:     ${b.toFixed(0)} ns/entry (ingest is ${(b / g).toFixed(2)}x faster)`,
  )
  const ratios = mapNs.map((x, i) => (ingestNs[i]! / x).toFixed(2))
  console.log(`ingest / Map fill, run by run: ${ratios.join(' ')}`)
}

void main()
