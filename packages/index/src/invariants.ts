/**
 * Structural invariant checker. Walks the whole index and throws an {@link InvariantError}
 * naming the first broken invariant. Cost: O(slots + keys * depth); meant for tests.
 */
import { isSet, popcount, prevSet } from './bitmap.js'
import { type DataNode, MODEL_WORDS, modelOf } from './data-node.js'
import { type DeepTables, deepLeaf } from './deep-route.js'
import { InvariantError } from './errors.js'
import {
  buildLookupTables,
  cachedLeaf,
  isSentinel,
  type LookupTables,
  STALE_TABLES,
} from './lookup-cache.js'
import { type AlexNode, type ModelNode, routeRaw, routeSlot } from './model-node.js'
import type { Config } from './options.js'

/** The parts of an index that the checker reads. */
export interface InvariantSource {
  readonly _root: AlexNode
  readonly _size: number
  readonly _cfg: Config
  readonly _shape?: number
  readonly _cacheShape?: number
  readonly _lf?: Float64Array
  readonly _li?: Int32Array
  readonly _lkv?: Float64Array[]
  readonly _deep?: DeepTables
}

function fail(invariant: string, message: string): never {
  throw new InvariantError(invariant, message)
}

/**
 * Checks, for every node: pointer arrays are powers of two and each child owns one aligned
 * power-of-two run; models are finite and monotone (positive model-node slopes); data nodes
 * hold strictly increasing finite keys (no -0) with gaps repeating the next key (+Infinity at
 * the end), a bitmap agreeing with numKeys and maxPos, and a free slot; every key routes from
 * the root to the node holding it, inside the domain of each model node that can still grow;
 * the leaf list links all leaves in key order; key counts add up to `size`; depth is bounded;
 * the lookup tables, when marked current, equal tables built afresh and send every key to its
 * leaf (or, below two model levels, to the sentinel, and the deep tables to its leaf), and
 * are the stale tables otherwise.
 */
export function checkInvariants(index: InvariantSource): void {
  const root = index._root
  const cfg = index._cfg
  const leaves: DataNode[] = []
  const seen = new Set<AlexNode>()
  let total = 0
  const walk = (node: AlexNode, depth: number): void => {
    if (seen.has(node)) fail('unique-child', 'a node is reachable by two runs')
    seen.add(node)
    if (depth > cfg.maxDepth) fail('bounded-depth', `depth ${depth} > maxDepth ${cfg.maxDepth}`)
    if (node.isData) {
      checkDataNode(node)
      leaves.push(node)
      total += node.numKeys
      return
    }
    checkModelNode(node, cfg)
    const ch = node.children
    let i = 0
    while (i < ch.length) {
      const child = ch[i]!
      let len = 1
      while (i + len < ch.length && ch[i + len] === child) len++
      if ((len & (len - 1)) !== 0 || i % len !== 0) {
        fail('pointer-runs', `child run [${i}, ${i + len}) is not an aligned power of two`)
      }
      walk(child, depth + 1)
      i += len
    }
  }
  walk(root, 0)
  const tables = checkLookupCache(index)
  if (total !== index._size) fail('size', `nodes hold ${total} keys, size is ${index._size}`)
  // Leaf list: exactly the in-order leaves.
  for (let j = 0; j < leaves.length; j++) {
    const l = leaves[j]!
    if (l.prev !== (j === 0 ? null : leaves[j - 1]))
      fail('leaf-links', `leaf ${j} has a wrong prev`)
    if (l.next !== (j === leaves.length - 1 ? null : leaves[j + 1])) {
      fail('leaf-links', `leaf ${j} has a wrong next`)
    }
  }
  // Global order and routing.
  let prevKey = Number.NEGATIVE_INFINITY
  for (const leaf of leaves) {
    const kv = leaf.kv
    for (let i = 0; i < leaf.cap; i++) {
      if (!isSet(leaf.bitmap, i)) continue
      const key = kv[2 * i]!
      if (!(key > prevKey)) fail('sorted-order', `key ${key} follows ${prevKey} across leaves`)
      prevKey = key
      const depth = checkRoute(root, key, leaf, cfg)
      if (tables !== null) {
        const kv = cachedLeaf(tables.lf, tables.li, tables.lkv, key)
        if (depth <= 2 ? kv !== leaf.kv : !isSentinel(kv)) {
          fail('lookup-cache', `key ${key} is routed to the wrong slot array by the lookup tables`)
        }
        const deep = index._deep
        if (depth > 2 && deep !== undefined) {
          if (deep.rf.length === 0)
            fail('deep-route', `key ${key} is deep but no deep tables exist`)
          if (deepLeaf(deep.rf, deep.ri, deep.rkv, key) !== leaf.kv) {
            fail('deep-route', `key ${key} is routed to the wrong slot array by the deep tables`)
          }
        }
      }
    }
  }
}

/**
 * Current lookup tables must equal tables built afresh from the root (same numbers, same slot
 * arrays); stale ones must be exactly the stale tables, so no lookup can read a replaced array.
 * Returns the current tables, or null.
 */
function checkLookupCache(index: InvariantSource): LookupTables | null {
  if (index._lf === undefined || index._li === undefined || index._lkv === undefined) return null
  const t = { lf: index._lf, li: index._li, lkv: index._lkv, cost: 0 }
  if (index._cacheShape !== index._shape) {
    if (t.lf !== STALE_TABLES.lf || t.li !== STALE_TABLES.li || t.lkv !== STALE_TABLES.lkv) {
      fail('lookup-cache', 'stale lookup tables are still installed')
    }
    if (index._deep !== undefined && index._deep.rf.length !== 0) {
      fail('deep-route', 'stale deep tables are still installed')
    }
    return null
  }
  const want = buildLookupTables(index._root)
  if (t.lf.length !== want.lf.length || t.li.length !== want.li.length) {
    fail('lookup-cache', 'lookup tables have the wrong size')
  }
  for (let i = 0; i < want.lf.length; i++) {
    if (!Object.is(t.lf[i], want.lf[i])) fail('lookup-cache', `lf[${i}] is stale`)
  }
  for (let i = 0; i < want.li.length; i++) {
    if (t.li[i] !== want.li[i]) fail('lookup-cache', `li[${i}] is stale`)
  }
  for (let i = 0; i < want.lkv.length; i++) {
    if (t.lkv[i] !== want.lkv[i]) fail('lookup-cache', `lkv[${i}] is a stale slot array`)
  }
  return t
}

function checkModelNode(m: ModelNode, cfg: Config): void {
  const n = m.children.length
  if (n < 1 || (n & (n - 1)) !== 0 || n > cfg.maxFanout) {
    fail('fanout', `model node has ${n} children (max ${cfg.maxFanout})`)
  }
  if (!(m.slope > 0) || !Number.isFinite(m.slope)) fail('monotone-model', `slope ${m.slope}`)
  if (!(m.scale > 0) || !Number.isFinite(m.scale)) fail('monotone-model', `scale ${m.scale}`)
  if (!Number.isFinite(m.base) || !Number.isInteger(m.off)) {
    fail('monotone-model', `base ${m.base} or offset ${m.off}`)
  }
  for (let i = 0; i < n; i++) if (m.children[i] === undefined) fail('pointer-runs', `hole at ${i}`)
}

function checkDataNode(d: DataNode): void {
  const { kv, bitmap, cap } = d
  if (kv.length !== 2 * cap + MODEL_WORDS || bitmap.length !== (cap + 31) >>> 5) {
    fail('node-arrays', `arrays do not match capacity ${cap}`)
  }
  const [base, scale, slope, icpt] = modelOf(d)
  if (!Number.isFinite(base) || !(scale > 0) || !(slope >= 0) || !Number.isFinite(slope)) {
    fail('monotone-model', `data node model base ${base} scale ${scale} slope ${slope}`)
  }
  if (!Number.isFinite(icpt)) fail('monotone-model', `data node intercept ${icpt}`)
  let count = 0
  for (const w of bitmap) count += popcount(w)
  if (count !== d.numKeys) fail('bitmap', `bitmap has ${count} bits, numKeys is ${d.numKeys}`)
  if (cap > 0 && d.numKeys >= cap) fail('free-slot', 'data node has no gap')
  if (d.maxPos !== prevSet(bitmap, cap - 1))
    fail('bitmap', `maxPos ${d.maxPos} is not the last key`)
  // Walk right to left: each gap must hold the next real key (+Infinity past the last).
  let next = Number.POSITIVE_INFINITY
  let nextPayload = Number.POSITIVE_INFINITY
  for (let i = cap - 1; i >= 0; i--) {
    const key = kv[2 * i]!
    if (isSet(bitmap, i)) {
      if (!Number.isFinite(key) || Object.is(key, -0)) fail('finite-keys', `slot ${i} holds ${key}`)
      if (!(key < next)) fail('sorted-order', `slot ${i} key ${key} >= next key ${next}`)
      next = key
      nextPayload = kv[2 * i + 1]!
    } else if (!Object.is(key, next)) {
      fail('gap-fill', `gap ${i} holds ${key}, next key is ${next}`)
    } else if (next !== Number.POSITIVE_INFINITY && !Object.is(kv[2 * i + 1], nextPayload)) {
      fail('gap-fill', `gap ${i} holds payload ${kv[2 * i + 1]}, next payload is ${nextPayload}`)
    }
  }
}

function checkRoute(root: AlexNode, key: number, leaf: DataNode, cfg: Config): number {
  let node = root
  let depth = 0
  while (!node.isData) {
    depth++
    const n = node.children.length
    if (n < cfg.maxFanout) {
      const r = routeRaw(node, key)
      if (r < 0 || r >= n) fail('domain', `key ${key} is outside a model node that can still grow`)
    }
    node = node.children[routeSlot(node, key)]!
  }
  if (node !== leaf) fail('routing', `key ${key} routes to another data node`)
  return depth
}
