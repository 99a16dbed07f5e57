/**
 * Bulk loading: builds an ALEX subtree from sorted keys, choosing every model node's fanout
 * with the fanout tree, and prepares arbitrary input (validation, sorting, duplicates) for it.
 */
import { DataNode, layout } from './data-node.js'
import { AlexTypeError, ErrorCode, invalidKey, invalidValue } from './errors.js'
import { planFanout } from './fanout-tree.js'
import { type Domain, domainOf } from './linear-model.js'
import { type AlexNode, makeModelNode, routeSlot } from './model-node.js'
import type { Config } from './options.js'

/** Threads the leaf list through a build: each new data node is linked after `prev`. */
export interface LinkContext {
  prev: DataNode | null
  /** Recorded as `stamp` on every model node built (the index's insert count), default 0. */
  stamp?: number
}

/** Links a new leaf after ctx.prev. */
export function linkLeaf(ctx: LinkContext, node: DataNode): void {
  node.prev = ctx.prev
  if (ctx.prev !== null) ctx.prev.next = node
  ctx.prev = node
}

/** A data node holding sorted keys[start, end) at the initial density. */
export function buildDataNode(
  keys: ArrayLike<number>,
  payloads: ArrayLike<number>,
  start: number,
  end: number,
  cfg: Config,
  ctx: LinkContext,
): DataNode {
  const n = end - start
  const cap = Math.max(8, Math.ceil(n / cfg.initialDensity))
  const node = new DataNode(8, cfg.maxDensity)
  layout(node, keys, payloads, start, end, cap, 0, cap, cfg.maxDensity)
  linkLeaf(ctx, node)
  return node
}

/**
 * Builds the subtree for sorted, distinct keys[start, end) at `depth` (root = 0). With
 * `forceModel` the result is a model node (used by downward splits); its key domain must
 * contain the keys. Leaves are linked in key order through `ctx`.
 */
export function buildSubtree(
  keys: ArrayLike<number>,
  payloads: ArrayLike<number>,
  start: number,
  end: number,
  domain: Domain,
  depth: number,
  cfg: Config,
  ctx: LinkContext,
  forceModel: boolean,
): AlexNode {
  const n = end - start
  if (n < 2 || (depth >= cfg.maxDepth - 1 && !forceModel)) {
    return buildDataNode(keys, payloads, start, end, cfg, ctx)
  }
  const fits = n <= cfg.maxBuildKeys
  if (fits && !forceModel && n <= 64) return buildDataNode(keys, payloads, start, end, cfg, ctx)
  const plan = planFanout(keys, start, end, domain, cfg, fits && !forceModel)
  if (plan === null) return buildDataNode(keys, payloads, start, end, cfg, ctx)
  const m = makeModelNode(plan.fanout, domain)
  m.stamp = ctx.stamp ?? 0
  m.builtKeys = n
  const runs = plan.runs
  let a = start
  for (let r = 0; r < runs.length; r += 2) {
    const s = runs[r]!
    const len = runs[r + 1]!
    const last = r + 2 >= runs.length
    // Keys routed to this run: [a, b), found by binary search on the monotone routing.
    let b = end
    if (!last) {
      let lo = a
      let hi = end
      const next = s + len
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (routeSlot(m, keys[mid]!) < next) lo = mid + 1
        else hi = mid
      }
      b = lo
    }
    let child: AlexNode
    if (b - a === n) {
      // The model could not separate the keys (cannot happen for a domain spanning them, but
      // never recurse without progress): keep them in one data node.
      child = buildDataNode(keys, payloads, a, b, cfg, ctx)
    } else if (b - a <= cfg.maxBuildKeys) {
      // The fanout tree already chose this run as one data node.
      child = buildDataNode(keys, payloads, a, b, cfg, ctx)
    } else {
      const childDomain = domainOf(keys[a]!, keys[b - 1]!, b - a)
      child = buildSubtree(keys, payloads, a, b, childDomain, depth + 1, cfg, ctx, false)
    }
    for (let i = s; i < s + len; i++) m.children[i] = child
    a = b
  }
  return m
}

/** Sorted, distinct keys and their payloads, ready for {@link buildSubtree}. */
export interface PreparedInput {
  keys: Float64Array
  payloads: Float64Array
  count: number
}

function isArrayLike(x: unknown): x is ArrayLike<unknown> {
  return (
    x !== null && typeof x === 'object' && typeof (x as { length?: unknown }).length === 'number'
  )
}

/**
 * Validates keys and payloads (throwing before anything is built), normalizes -0 to 0, and
 * sorts them if needed; for a repeated key the last payload wins, as with repeated `set`.
 * Already sorted Float64Array input is used without copying.
 */
export function prepareInput(keys: unknown, payloads: unknown): PreparedInput {
  if (!isArrayLike(keys)) throw invalidKey(keys)
  if (!isArrayLike(payloads)) throw invalidValue(payloads)
  const n = keys.length
  if (payloads.length !== n) {
    throw new AlexTypeError(
      ErrorCode.INVALID_VALUE,
      `got ${payloads.length} payloads for ${n} keys; the lengths must match`,
    )
  }
  let sorted = true
  let hasNegZero = false
  let prev = Number.NEGATIVE_INFINITY
  for (let i = 0; i < n; i++) {
    const k = keys[i]
    if (typeof k !== 'number' || k - k !== 0) throw invalidKey(k)
    const v = payloads[i]
    if (typeof v !== 'number') throw invalidValue(v)
    if (k === 0 && 1 / k < 0) hasNegZero = true
    if (!(k > prev)) sorted = false
    prev = k
  }
  if (sorted) {
    const ks =
      keys instanceof Float64Array && !hasNegZero
        ? keys
        : Float64Array.from(keys as ArrayLike<number>, (k) => k + 0)
    const vs =
      payloads instanceof Float64Array ? payloads : Float64Array.from(payloads as ArrayLike<number>)
    return { keys: ks, payloads: vs, count: n }
  }
  // Sort positions by key; ties by position so the last write wins after deduplication.
  const src = Float64Array.from(keys as ArrayLike<number>)
  const order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  order.sort((a, b) => src[a]! - src[b]! || a - b)
  const ks = new Float64Array(n)
  const vs = new Float64Array(n)
  let c = 0
  for (let j = 0; j < n; j++) {
    const i = order[j]!
    const k = src[i]! + 0
    const v = payloads[i] as number
    if (c > 0 && ks[c - 1] === k) vs[c - 1] = v
    else {
      ks[c] = k
      vs[c] = v
      c++
    }
  }
  return { keys: ks, payloads: vs, count: c }
}
