/**
 * @alex/index on hard key sets (issue #14): for each set of @alex/test-support's key sets,
 * the index built by inserting the keys in the set's order, then `get` against a binary search
 * over a sorted Float64Array and against Map.get, timed alternately in the same run (ratios are
 * what counts on a shared machine), bytes per key (the index's own accounting, stats().bytes),
 * build cost per insert, and the worst insert.
 *
 *   npx tsx bench/key-sets-bench.ts [--keys 1000000] [--reps 3] [--set all|uniform|...]
 *   pnpm bench:key-sets -- --keys 10000000     (10M: about 1-2 min per set, 4-5 GB of heap)
 *
 * Per set: `uniform`, `lognormal`, `clustered`, `gapped` are inserted in random order (the
 * issue's "built by random inserts"). `queue` keeps a window of N timestamps: 2N ascending keys
 * are appended and, once N are in, each append deletes the oldest; the build figure is per
 * append+delete. `adversarial` is inserted in its crafted order. `queue` and `adversarial` are
 * also built by inserting their final keys in random order (rows marked "random").
 *
 * The worst insert is the slowest block of 16 consecutive inserts (timing each insert alone
 * would add a clock read to every insert): an upper bound on the slowest single one.
 */

import { PerformanceObserver } from 'node:perf_hooks'
import {
  benchFlags,
  KEY_SETS,
  type KeySetName,
  makeKeySet,
  Random,
  shuffle,
} from '@alex/test-support/bench'
import { AlexIndex } from '../src/index.js'

/** Longest garbage-collection pause since the last reset: the worst insert may contain one. */
let gcMaxMs = 0
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.duration > gcMaxMs) gcMaxMs = e.duration
}).observe({ entryTypes: ['gc'] })

const USAGE = `Usage: npx tsx bench/key-sets-bench.ts [--keys 1000000] [--reps 3] [--set all]

  --keys N   keys in the index (default 1000000)
  --reps N   repetitions of each get timing, best reported (default 3)
  --set S    one set, or all (default)
  --budget S seconds one build may take; a build still running then stops there and the
             row reports how many keys it reached (default 120)`
const { numbers, choices } = benchFlags(process.argv.slice(2), {
  usage: USAGE,
  numbers: { keys: 1_000_000, reps: 3, budget: 120 },
  choices: { set: ['all', ...KEY_SETS] },
})
const N = numbers.keys
const REPS = numbers.reps
const QUERIES = Math.min(N, 1_000_000)
const BLOCK = 16
const BUDGET_MS = numbers.budget * 1000
const random = new Random(0x14)
let sink = 0

function binarySearch(a: Float64Array, key: number): number {
  let lo = 0
  let hi = a.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const v = a[mid]!
    if (v < key) lo = mid + 1
    else if (v > key) hi = mid - 1
    else return mid
  }
  return -1
}

interface Build {
  index: AlexIndex
  nsPerOp: number
  worstMs: number
  /** Keys inserted: all of them unless the budget ran out. */
  done: number
  /** Longest GC pause seen during the build. */
  gcMs: number
}

/**
 * Inserts `keys` in order; with `window`, deletes key i - window after inserting key i. Stops
 * early once `budgetMs` have passed.
 */
function build(keys: Float64Array, window: number, budgetMs = BUDGET_MS): Build {
  const index = new AlexIndex()
  gcMaxMs = 0
  let worst = 0
  const t0 = performance.now()
  let tb = t0
  let i = 0
  for (; i < keys.length; i++) {
    index.set(keys[i]!, i)
    if (i >= window) index.delete(keys[i - window]!)
    if ((i & (BLOCK - 1)) === BLOCK - 1) {
      const t = performance.now()
      if (t - tb > worst) worst = t - tb
      tb = t
      if (t - t0 > budgetMs) {
        i++
        break
      }
    }
  }
  const total = performance.now() - t0
  // GC entries are delivered asynchronously; this build's pauses are read after a macrotask.
  return { index, nsPerOp: (total * 1e6) / i, worstMs: worst, done: i, gcMs: 0 }
}

/** Lets the GC observer deliver the build's entries, then records its longest pause. */
async function settle(b: Build): Promise<Build> {
  for (let t = 0; t < 3; t++) await new Promise((resolve) => setTimeout(resolve, 5))
  b.gcMs = gcMaxMs
  return b
}

interface Row {
  set: string
  how: string
  buildNs: number
  worstMs: number
  gcMs: number
  getNs: number
  vsBinary: number
  vsMap: number
  bytesPerKey: number
  shape: string
}
const rows: Row[] = []

/** Times get, binary search and Map.get alternately over the same queries; best of REPS each. */
function measureGets(
  index: AlexIndex,
  present: Float64Array,
  set: string,
  how: string,
  b: Build,
): void {
  const sorted = Float64Array.from(present).sort()
  const queries = shuffle(Float64Array.from(present), random).subarray(0, QUERIES)
  const map = new Map<number, number>()
  for (let i = 0; i < present.length; i++) map.set(present[i]!, i)
  let tAlex = Number.POSITIVE_INFINITY
  let tBin = Number.POSITIVE_INFINITY
  let tMap = Number.POSITIVE_INFINITY
  for (let r = 0; r < REPS; r++) {
    let t = performance.now()
    let s = 0
    for (let i = 0; i < queries.length; i++) s += index.get(queries[i]!)!
    tAlex = Math.min(tAlex, performance.now() - t)
    t = performance.now()
    for (let i = 0; i < queries.length; i++) s += binarySearch(sorted, queries[i]!)
    tBin = Math.min(tBin, performance.now() - t)
    t = performance.now()
    for (let i = 0; i < queries.length; i++) s += map.get(queries[i]!)!
    tMap = Math.min(tMap, performance.now() - t)
    sink += s
  }
  const st = index.stats()
  if (st.totalKeys !== present.length)
    throw new Error(`${set}: ${st.totalKeys} keys, expected ${present.length}`)
  rows.push({
    set,
    how,
    buildNs: b.nsPerOp,
    worstMs: b.worstMs,
    gcMs: b.gcMs,
    getNs: (tAlex * 1e6) / queries.length,
    vsBinary: tBin / tAlex,
    vsMap: tMap / tAlex,
    bytesPerKey: st.bytesPerKey,
    shape: `h${st.height} ${st.modelNodes}m/${st.dataNodes}d${b.done < N ? `, STOPPED at ${b.done} inserts (budget)` : ''}`,
  })
  console.error(JSON.stringify(rows[rows.length - 1]))
}

// Warm-up, so that compiling the restructuring code is not billed to the first set.
for (const name of ['uniform', 'adversarial'] as const)
  sink += build(makeKeySet(name, 200_000, 7), 1e9).index.size

const sets: readonly KeySetName[] = choices.set === 'all' ? KEY_SETS : [choices.set as KeySetName]
for (const set of sets) {
  if (set === 'queue') {
    const keys = makeKeySet('queue', 2 * N)
    const present = keys.subarray(N)
    const b = await settle(build(keys, N))
    measureGets(b.index, keys.subarray(Math.max(0, b.done - N), b.done), set, 'append+delete', b)
    const shuffled = shuffle(Float64Array.from(present), random)
    const r = await settle(build(shuffled, Number.POSITIVE_INFINITY))
    measureGets(r.index, shuffled.subarray(0, r.done), set, 'random', r)
    continue
  }
  const keys = makeKeySet(set, N)
  const b = await settle(build(keys, Number.POSITIVE_INFINITY))
  const how = set === 'adversarial' ? 'crafted order' : 'random'
  measureGets(b.index, keys.subarray(0, b.done), set, how, b)
  if (set === 'adversarial') {
    const shuffled = shuffle(Float64Array.from(keys), random)
    const r = await settle(build(shuffled, Number.POSITIVE_INFINITY))
    measureGets(r.index, shuffled.subarray(0, r.done), set, 'random', r)
  }
}

console.log(
  `@alex/index on hard key sets: ${N} keys, ${QUERIES} random gets of present keys, best of ${REPS}, node ${process.version}`,
)
console.log(
  '| set | built by | build ns/op | worst 16 inserts ms | longest GC pause ms | get ns | vs binary search | vs Map.get | bytes/key | shape |',
)
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |')
for (const r of rows) {
  console.log(
    `| ${r.set} | ${r.how} | ${r.buildNs.toFixed(0)} | ${r.worstMs.toFixed(2)} | ${r.gcMs.toFixed(1)} | ${r.getNs.toFixed(0)} | ${r.vsBinary.toFixed(2)}x | ${r.vsMap.toFixed(2)}x | ${r.bytesPerKey.toFixed(1)} | ${r.shape} |`,
  )
}
const gets = rows.map((r) => r.getNs)
console.log(
  `worst set's get / best set's get: ${(Math.max(...gets) / Math.min(...gets)).toFixed(2)}`,
)
if (sink === 42) console.log('')
