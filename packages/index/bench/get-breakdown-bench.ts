/**
 * Where the time of a `get` goes on each key set (issue #14): the index built by inserting the
 * set in random order, then, over the same random present keys,
 *
 * - `get`: the public lookup;
 * - `binary search`: over a sorted Float64Array of the same keys (the baseline of the targets);
 * - `walk`: routing only, from the root to the data node, through node objects (leafFor);
 * - `leaf search`: the search inside the data node only (prediction, then exponential search),
 *   the leaves found beforehand;
 *
 * plus how deep the keys are (levels of model nodes above their data node) and how far the
 * model's prediction is from the slot holding the key (log2 buckets of the distance in slots).
 * `walk` and `leaf search` are timed in separate loops, so their sum understates a `get` (whose
 * steps depend on each other); they show which part dominates, not an exact split.
 *
 *   npx tsx bench/get-breakdown-bench.ts [--keys 1000000] [--set all|uniform|...] [--reps 3]
 */
import {
  benchFlags,
  KEY_SETS,
  type KeySetName,
  makeKeySet,
  Random,
  shuffle,
} from '@alex/test-support/bench'
import type { DataNode } from '../src/data-node.js'
import { predict, upperBound } from '../src/data-node.js'
import { AlexIndex } from '../src/index.js'
import { type AlexNode, routeSlot } from '../src/model-node.js'
import { leafFor } from '../src/navigate.js'

const USAGE = `Usage: npx tsx bench/get-breakdown-bench.ts [--keys 1000000] [--set all] [--reps 3]`
const { numbers, choices } = benchFlags(process.argv.slice(2), {
  usage: USAGE,
  numbers: { keys: 1_000_000, reps: 3 },
  choices: { set: ['all', ...KEY_SETS.filter((s) => s !== 'queue')] },
})
const N = numbers.keys
const QUERIES = Math.min(N, 500_000)
let sink = 0

function lowerBound(a: Float64Array, key: number): number {
  let lo = 0
  let hi = a.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (a[mid]! < key) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** ns per iteration of `body` over the queries, best of the repetitions. */
function time(q: Float64Array, body: (i: number) => number): number {
  let best = Number.POSITIVE_INFINITY
  for (let r = 0; r < numbers.reps; r++) {
    const t = performance.now()
    for (let i = 0; i < q.length; i++) sink += body(i)
    best = Math.min(best, ((performance.now() - t) * 1e6) / q.length)
  }
  return best
}

function histogram(values: Int32Array): string {
  const counts = new Map<number, number>()
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
  return [...counts]
    .sort((a, b) => a[0] - b[0])
    .map(([k, c]) => `${k}:${((100 * c) / values.length).toFixed(1)}%`)
    .join(' ')
}

function run(set: KeySetName): void {
  const keys = makeKeySet(set, N, 1)
  const random = new Random(0x14)
  const inserted = shuffle(keys.slice(), random)
  const index = new AlexIndex()
  for (let i = 0; i < inserted.length; i++) index.set(inserted[i]!, inserted[i]!)
  const sorted = keys.slice().sort()
  const q = shuffle(keys.slice(), random).subarray(0, QUERIES)
  const leaves: DataNode[] = new Array<DataNode>(q.length)
  const depth = new Int32Array(q.length)
  const error = new Int32Array(q.length)
  for (let i = 0; i < q.length; i++) {
    const key = q[i]!
    let node: AlexNode = index._root
    let d = 0
    for (; !node.isData; d++) node = node.children[routeSlot(node, key)]!
    const leaf = node
    leaves[i] = leaf
    depth[i] = d
    const p = predict(leaf, key)
    const slot = upperBound(leaf.kv, leaf.cap, key, p) - 1
    const dist = Math.abs(slot - p)
    error[i] = dist === 0 ? 0 : 32 - Math.clz32(dist)
  }
  const get = time(q, (i) => index.get(q[i]!)!)
  const binary = time(q, (i) => lowerBound(sorted, q[i]!))
  const walk = time(q, (i) => leafFor(index._root, q[i]!).numKeys)
  const search = time(q, (i) => {
    const leaf = leaves[i]!
    return upperBound(leaf.kv, leaf.cap, q[i]!, predict(leaf, q[i]!))
  })
  const s = index.stats()
  console.log(
    `| ${set} | ${get.toFixed(0)} | ${binary.toFixed(0)} | ${(binary / get).toFixed(2)}x | ${walk.toFixed(0)} | ${search.toFixed(0)} | h${s.height} ${s.modelNodes}m/${s.dataNodes}d | ${histogram(depth)} | ${histogram(error)} |`,
  )
}

console.log(
  `@alex/index get breakdown: ${N} keys built by random inserts, ${QUERIES} random gets of present keys, best of ${numbers.reps}, node ${process.version}`,
)
console.log(
  '| set | get ns | binary search ns | get vs binary | walk ns | leaf search ns | shape | key depth (model levels): share | log2 prediction error (slots): share |',
)
console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |')
const sets = choices.set === 'all' ? KEY_SETS.filter((s) => s !== 'queue') : [choices.set]
for (const set of sets) run(set as KeySetName)
if (sink === 42) console.log('')
