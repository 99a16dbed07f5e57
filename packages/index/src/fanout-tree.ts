/**
 * The fanout tree of ALEX bulk loading: chooses how many child pointers a model node gets and
 * which neighbouring slots share one child, by comparing the cost model's estimate of each
 * candidate layout.
 *
 * Level k of the tree splits the node's key domain into 2^k equal-width buckets. Each bucket is
 * costed as a data node trained on its keys (expected search iterations, estimated on a sample)
 * plus per-node memory; the best level wins, then sibling buckets whose merged data node is
 * cheaper than the pair are merged bottom-up into one run of duplicated pointers.
 */
import { DATA_NODE_COST, expectedSearchCost, POINTER_COST, TRAVERSAL_COST } from './cost-model.js'
import { type Domain, scaleFor } from './linear-model.js'
import type { Config } from './options.js'

/** Keys sampled per level when costing a fanout (every stride-th key beyond this). */
export const FANOUT_SAMPLE = 16384
/** A level is costed only while its buckets average this many samples or some is oversized. */
export const MIN_SAMPLES_PER_BUCKET = 4

/** The chosen fanout and runs (pairs of start slot and length) of a model node. */
export interface FanoutPlan {
  fanout: number
  runs: number[]
}

const NODE_COST = DATA_NODE_COST

/**
 * Plans a model node over sorted keys[start, end) over domain `d`. Returns null when one data node is cheaper (only if `allowData`). The plan always has
 * at least two runs.
 */
export function planFanout(
  keys: ArrayLike<number>,
  start: number,
  end: number,
  d: Domain,
  cfg: Config,
  allowData: boolean,
): FanoutPlan | null {
  const n = end - start
  const { pre, base, span } = d
  const scale = scaleFor(span)
  const stride = Math.max(1, Math.floor(n / FANOUT_SAMPLE))
  const ns = Math.floor((n - 1) / stride) + 1
  const xs = new Float64Array(ns)
  for (let t = 0; t < ns; t++) xs[t] = (keys[start + t * stride]! * pre - base) * scale
  const density = cfg.initialDensity
  const maxKeys = cfg.maxBuildKeys
  const maxLevel = Math.round(Math.log2(cfg.maxFanout))

  const singleCost =
    allowData && n <= maxKeys
      ? expectedSearchCost(keys, start, end, stride, density) * n + NODE_COST
      : Number.POSITIVE_INFINITY

  // costs[k][b], counts[k][b]: cost and key count of bucket b at level k (level 0 = whole).
  const costs: Float64Array[] = [Float64Array.of(singleCost)]
  const counts: Float64Array[] = [Float64Array.of(n)]
  let bestLevel = 0
  let bestCost = singleCost
  let worse = 0
  let oversized = true
  for (let k = 1; k <= maxLevel; k++) {
    const f = 2 ** k
    // Sparse levels are only worth costing while some bucket is still too big for one node
    // (skewed keys: most buckets empty, a few dense ones).
    if (ns / f < MIN_SAMPLES_PER_BUCKET && k > 1 && !oversized) break
    oversized = false
    const slope = f / (span * scale)
    const c = new Float64Array(f)
    const cnt = new Float64Array(f)
    let total = TRAVERSAL_COST * n + POINTER_COST * f
    let t0 = 0
    while (t0 < ns) {
      const b = bucketOf(xs[t0]!, slope, f)
      let t1 = t0 + 1
      while (t1 < ns && bucketOf(xs[t1]!, slope, f) === b) t1++
      const count = (t1 - t0) * stride
      const s = start + t0 * stride
      const e = t1 === ns ? end : start + t1 * stride
      let cost = expectedSearchCost(keys, s, e, stride, density) * count + NODE_COST
      // An oversized bucket becomes a subtree: one more level and at least this many nodes.
      if (count > maxKeys) {
        cost += TRAVERSAL_COST * count + NODE_COST * Math.ceil(count / maxKeys)
        oversized = true
      }
      c[b] = cost
      cnt[b] = count
      total += cost
      t0 = t1
    }
    costs.push(c)
    counts.push(cnt)
    if (total < bestCost) {
      bestCost = total
      bestLevel = k
      worse = 0
    } else if (ns / f <= maxKeys / stride && ++worse >= 3) break
  }
  if (bestLevel === 0) return null
  const fanout = 2 ** bestLevel
  const runs: number[] = []
  // Top level: always split (the caller wants a model node); below, merge when cheaper.
  plan(costs, counts, 1, 0, bestLevel, maxKeys, runs)
  plan(costs, counts, 1, 1, bestLevel, maxKeys, runs)
  return { fanout, runs }
}

function bucketOf(x: number, slope: number, f: number): number {
  const r = Math.floor(x * slope)
  return Math.max(0, Math.min(r, f - 1))
}

/** Emits runs for bucket i of level j and returns its best cost. */
function plan(
  costs: Float64Array[],
  counts: Float64Array[],
  j: number,
  i: number,
  leaf: number,
  maxKeys: number,
  runs: number[],
): number {
  const width = 2 ** (leaf - j)
  const own = costs[j]![i]! || NODE_COST
  if (j === leaf) {
    runs.push(i * width, width)
    return own
  }
  const mark = runs.length
  const split =
    plan(costs, counts, j + 1, 2 * i, leaf, maxKeys, runs) +
    plan(costs, counts, j + 1, 2 * i + 1, leaf, maxKeys, runs)
  if (counts[j]![i]! <= maxKeys && own <= split) {
    runs.length = mark
    runs.push(i * width, width)
    return own
  }
  return split
}
