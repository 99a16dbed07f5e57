/**
 * ALEX's cost model, in units of "one exponential-search iteration" (roughly one cache line
 * touched). It decides the fanout of model nodes at bulk load, and whether a full data node
 * expands or splits. The search-iteration to shift ratio is the paper's (20 : 0.5); the level and
 * per-node costs are raised for JavaScript, where every node is several heap objects.
 */
import { fitRanks, type LinearFit, newFit } from './linear-model.js'

/** Cost of one exponential-search iteration. */
export const SEARCH_ITERATION_COST = 1
/** Cost of shifting one slot during an insert (ALEX: 0.5 / 20). */
export const SHIFT_COST = 0.025
/** Cost of one more node level on the way down (model node, pointer array, next node). */
export const TRAVERSAL_COST = 4
/**
 * Cost of one more data node, charged once per node: its object, typed-array headers and model
 * compete for cache with every other node, which in practice costs lookups far more than a few
 * search iterations inside a bigger node. Tuned so uniform keys get nodes of about 1-2k keys.
 */
export const DATA_NODE_COST = 1000
/** Cost of one model-node child pointer, charged once. */
export const POINTER_COST = 0.5
/**
 * A data node whose measured cost per insert exceeds `CATASTROPHE_FACTOR` times the cost
 * expected when it was last trained (plus `CATASTROPHE_SLACK`) has a model that no longer fits:
 * it is split instead of expanded.
 */
export const CATASTROPHE_FACTOR = 2
/** Additive slack of the catastrophe test, so tiny expected costs do not trigger it. */
export const CATASTROPHE_SLACK = 2
/** Inserts a node must have seen before its measured cost is trusted. */
export const MIN_INSERTS_FOR_EMPIRICAL = 64
/**
 * Expected cost per insert (iterations plus weighted shifts) above which a freshly trained
 * node is catastrophic by itself: its keys are too far from linear for one model.
 */
export const CATASTROPHIC_COST = 6
/** A node with fewer keys is never split for being catastrophic; it is retrained instead. */
export const MIN_SPLIT_KEYS = 128

/**
 * ALEX's catastrophic-cost test: a node whose model fits badly even when freshly trained, or
 * whose measured cost per insert has drifted far above what was expected at training, should be
 * split rather than expanded and retrained.
 */
export function isCatastrophic(
  expectedIters: number,
  expectedShifts: number,
  inserts: number,
  iters: number,
  shifts: number,
): boolean {
  const expected = expectedIters + SHIFT_COST * expectedShifts
  if (expected > CATASTROPHIC_COST) return true
  if (inserts < MIN_INSERTS_FOR_EMPIRICAL) return false
  const empirical = (iters + SHIFT_COST * shifts) / inserts
  return empirical > CATASTROPHE_FACTOR * expected + CATASTROPHE_SLACK
}

/** Number of bits of a non-negative integer (exp-search iterations for an error of n). */
export function bitLength(n: number): number {
  return 32 - Math.clz32(n)
}

const scratchFit: LinearFit = newFit()

/**
 * Expected exponential-search iterations per key if keys[start, end) became one data node
 * trained on them, estimated from every `stride`-th key. Rank errors are divided by the density
 * because slots, not ranks, are searched.
 */
export function expectedSearchCost(
  keys: ArrayLike<number>,
  start: number,
  end: number,
  stride: number,
  density: number,
): number {
  if (end - start <= 1) return 0
  const f = scratchFit
  fitRanks(keys, start, end, stride, f)
  const { base, scale, slope, icpt } = f
  const inv = 1 / density
  let sum = 0
  let n = 0
  let r = 0
  for (let i = start; i < end; i += stride) {
    const pred = icpt + (keys[i]! - base) * scale * slope
    let err = (pred - r) * inv
    if (err < 0) err = -err
    sum += err < 2 ** 30 ? bitLength(err | 0) : 31
    n++
    r += stride
  }
  return (sum / n) * SEARCH_ITERATION_COST
}
