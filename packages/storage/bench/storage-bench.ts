/**
 * @alex/storage benchmark (issue 4). Ratios are measured within one run on the same data;
 * absolute times are for orientation only (the machine is shared).
 *
 *   npx tsx bench/storage-bench.ts [--keys 1000000] [--value 128] [--rounds 3]
 *
 * 1. bulk load of N entries in batches of 1000, durable at the end (sync 'none' + checkpoint),
 *    random key order and ascending keys: target <= 500 ns per entry;
 * 2. random get of N keys x `value`-byte values: AlexStorage.get vs Map.get returning the same
 *    values from memory (target within 1.5x) and vs LevelDB (classic-level getSync, reached
 *    through @alex/compare in a child process: benchmarks/src/leveldb-get.ts) on the same data
 *    (target >= 15x faster); every read is consumed (length and first byte);
 * 3. 64 concurrent durable puts (sync 'always'): target >= 100,000 per second;
 * 4. open time of the N-key store after a clean close (snapshot) and after a crash (snapshot plus
 *    log replay) against a full data-segment scan (snapshot deleted): target <= 1/10 of the scan.
 */
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AlexIndex } from '@alex/index'
import {
  benchFlags,
  makeDataset,
  makeQueries,
  median,
  medianItem,
  Random,
} from '@alex/test-support/bench'
import { AlexStorage } from '../src/index.js'
import { BULK_LOAD_OPTIONS, writeInBatches } from './workload.js'

const USAGE = `Usage: npx tsx bench/storage-bench.ts [--keys 1000000] [--value 128] [--rounds 3]

  --keys N     entries loaded (default 1000000)
  --value N    value bytes (default 128)
  --rounds N   rounds per timing, median reported (default 3)`
const { numbers } = benchFlags(process.argv.slice(2), {
  usage: USAGE,
  numbers: { keys: 1_000_000, value: 128, rounds: 3 },
})
const N = numbers.keys
const VALUE = numbers.value
const ROUNDS = numbers.rounds
const BATCH = 1000
const root = mkdtempSync(join(tmpdir(), 'alex-storage-bench-'))
const results: { name: string; figure: string; target: string; pass: boolean | undefined }[] = []

function now(): number {
  return performance.now()
}

function valueAt(values: Uint8Array, i: number): Uint8Array {
  return values.subarray(i * VALUE, (i + 1) * VALUE)
}

async function bulkLoad(dir: string, keys: Float64Array, values: Uint8Array): Promise<number> {
  const t0 = now()
  const db = await AlexStorage.open(dir, BULK_LOAD_OPTIONS)
  await writeInBatches(db, keys, values, VALUE, BATCH)
  const t1 = now()
  await db.checkpoint() // durable: data segments and snapshot fsynced
  const ns = ((now() - t0) * 1e6) / N
  console.log(
    `  (${(((t1 - t0) * 1e6) / N).toFixed(0)} ns/entry writing, ${(now() - t1).toFixed(0)} ms for the final checkpoint)`,
  )
  await db.close()
  return ns
}

/** ns per LevelDB get in each of ROUNDS rounds, from benchmarks/src/leveldb-get.ts. */
function levelDbGets(): number[] {
  const script = fileURLToPath(new URL('../../../benchmarks/src/leveldb-get.ts', import.meta.url))
  const args = ['--keys', String(N), '--value', String(VALUE), '--rounds', String(ROUNDS)]
  // The same tsx loader as this process (process.execArgv), output on stdout as one JSON line.
  const out = execFileSync(process.execPath, [...process.execArgv, script, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  })
  return (JSON.parse(out.trim().split('\n').at(-1)!) as { nsPerGet: number[] }).nsPerGet
}

function report(name: string, figure: string, target: string, pass: boolean | undefined) {
  results.push({ name, figure, target, pass })
  console.log(
    `  ${name}: ${figure}  [${target}] ${pass === undefined ? '' : pass ? 'PASS' : 'MISS'}`,
  )
}

async function main(): Promise<void> {
  console.log(`@alex/storage benchmark: ${N} keys, ${VALUE}-byte values, node ${process.version}`)
  const { keys, values } = makeDataset(N, VALUE)
  const storeDir = join(root, 'store')

  // 1. Bulk load.
  console.log('bulk load (batches of 1000, durable at the end)')
  const randomNs = await bulkLoad(storeDir, keys, values)
  report(
    'bulk load, random key order',
    `${randomNs.toFixed(0)} ns/entry`,
    '<= 500 ns',
    randomNs <= 500,
  )
  const ascending = Float64Array.from(keys).sort()
  const ascNs = await bulkLoad(join(root, 'ascending'), ascending, values)
  report('bulk load, ascending keys', `${ascNs.toFixed(0)} ns/entry`, '<= 500 ns', ascNs <= 500)
  rmSync(join(root, 'ascending'), { recursive: true, force: true })

  // 2. Random get.
  console.log('random get')
  const map = new Map<number, Uint8Array>()
  for (let i = 0; i < N; i++) map.set(keys[i]!, valueAt(values, i).slice())
  // LevelDB through @alex/compare, in a child process of the benchmarks package (this package
  // cannot depend on @alex/compare, which depends on it): the same data set, the first 200,000
  // of the same queries, ROUNDS timings.
  const levels = levelDbGets()
  const db = await AlexStorage.open(storeDir)
  const queries = makeQueries(keys, Math.min(2 * N, 2_000_000))
  // Warm-up: load every segment image, let the JIT settle.
  let sink = 0
  for (let i = 0; i < queries.length; i++) sink += db.get(queries[i]!)!.length
  const ours: number[] = []
  const maps: number[] = []
  // For the breakdown: an ALEX index over the same keys, alone (the store's first step).
  const alone = AlexIndex.from(Float64Array.from(keys).sort(), new Float64Array(N).fill(1))
  const lookups: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    let t = now()
    for (let i = 0; i < queries.length; i++) {
      const v = db.get(queries[i]!)!
      sink += v.length + v[0]!
    }
    ours.push(((now() - t) * 1e6) / queries.length)
    t = now()
    for (let i = 0; i < queries.length; i++) {
      const v = map.get(queries[i]!)!
      sink += v.length + v[0]!
    }
    maps.push(((now() - t) * 1e6) / queries.length)
    t = now()
    for (let i = 0; i < queries.length; i++) sink += alone.get(queries[i]!)!
    lookups.push(((now() - t) * 1e6) / queries.length)
  }
  const o = median(ours)
  const m = median(maps)
  const l = median(levels)
  const a = median(lookups)
  console.log(
    `  AlexStorage.get ${o.toFixed(0)} ns, Map.get ${m.toFixed(0)} ns, LevelDB getSync ${l.toFixed(0)} ns, ALEX lookup alone ${a.toFixed(0)} ns (medians of ${ROUNDS})`,
  )
  report('get vs Map.get', `${(o / m).toFixed(2)}x the time of Map.get`, '<= 1.5x', o / m <= 1.5)
  report('get vs LevelDB getSync', `${(l / o).toFixed(1)}x faster`, '>= 15x', l / o >= 15)
  map.clear()

  // 4a. Open after a crash: the store plus 100,000 logged writes not yet checkpointed, copied
  // while open (what a SIGKILL leaves).
  const extra = Math.min(100_000, N)
  for (let i = 0; i < extra; i += BATCH) {
    await db.batch(
      Array.from({ length: Math.min(BATCH, extra - i) }, (_, j) => ({
        type: 'put' as const,
        key: keys[i + j]!,
        value: valueAt(values, (i + j + 1) % N),
      })),
    )
  }
  const crashImage = join(root, 'crash-image')
  cpSync(storeDir, crashImage, { recursive: true })
  await db.close()
  if (sink === 42) console.log('')

  // 4. Open times, each the median of ROUNDS opens of the same state.
  console.log('open')
  const timeOpen = async (prepare: () => string) => {
    const runs: { ms: number; source: string; replayed: number }[] = []
    for (let r = 0; r < ROUNDS; r++) {
      const dir = prepare()
      const t = now()
      const s = await AlexStorage.open(dir)
      const ms = now() - t
      runs.push({ ms, source: s.recovery.source, replayed: s.recovery.replayed })
      await s.close()
    }
    return medianItem(runs, (run) => run.ms)
  }
  // After a clean close: the newest snapshot, nothing to replay.
  const clean = await timeOpen(() => storeDir)
  // After a crash: a fresh copy of the crash image each time (recovery repairs it).
  const crashDir = join(root, 'crash')
  const crash = await timeOpen(() => {
    rmSync(crashDir, { recursive: true, force: true })
    cpSync(crashImage, crashDir, { recursive: true })
    return crashDir
  })
  // A full data-segment scan: every snapshot deleted first (the open writes a new one).
  const scan = await timeOpen(() => {
    for (const f of readdirSync(storeDir)) {
      if (f.startsWith('snapshot-')) unlinkSync(join(storeDir, f))
    }
    return storeDir
  })
  console.log(
    `  after clean close ${clean.ms.toFixed(0)} ms (${clean.source}), after crash ${crash.ms.toFixed(0)} ms (${crash.source} + ${crash.replayed} replayed), full scan ${scan.ms.toFixed(0)} ms (${scan.source}; includes writing a new snapshot); medians of ${ROUNDS}`,
  )
  report(
    'open after clean close vs full scan',
    `${(clean.ms / scan.ms).toFixed(3)} of the scan time`,
    '<= 0.1',
    clean.ms / scan.ms <= 0.1,
  )
  report(
    'open after crash vs full scan',
    `${(crash.ms / scan.ms).toFixed(3)} of the scan time`,
    'reported',
    undefined,
  )
  rmSync(crashDir, { recursive: true, force: true })
  rmSync(crashImage, { recursive: true, force: true })

  // 3. 64 concurrent durable puts.
  console.log('64 concurrent durable puts')
  const durableDir = join(root, 'durable')
  const d = await AlexStorage.open(durableDir, { sync: 'always' })
  const total = Math.min(200_000, 2 * N)
  let issued = 0
  const worker = async (w: number) => {
    const r = new Random(w + 1)
    while (issued < total) {
      issued++
      await d.put(r.nextUint32() % N, valueAt(values, r.nextUint32() % N))
    }
  }
  const t = now()
  await Promise.all(Array.from({ length: 64 }, (_, w) => worker(w)))
  const perSec = total / ((now() - t) / 1000)
  const s = d.stats()
  console.log(
    `  ${total} puts, ${s.wal.fsyncs} log fsyncs (mean group ${s.wal.groupSize.mean.toFixed(1)}), p50 fsync ${s.wal.fsyncLatencyUs.p50.toFixed(0)} us`,
  )
  report(
    '64 concurrent durable puts',
    `${Math.round(perSec).toLocaleString('en-US')} puts/s`,
    '>= 100,000/s',
    perSec >= 100_000,
  )
  await d.close()

  console.log('\nsummary')
  for (const r of results) {
    console.log(
      `  ${r.pass === undefined ? '    ' : r.pass ? 'PASS' : 'MISS'}  ${r.name}: ${r.figure} (${r.target})`,
    )
  }
}

main()
  .catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
  .finally(() => rmSync(root, { recursive: true, force: true }))
