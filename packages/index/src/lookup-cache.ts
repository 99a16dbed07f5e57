/**
 * The lookup cache: the top two levels of the tree flattened into three tables, so that `get`
 * reaches a leaf's slot array and model without loading a single node object.
 *
 * In JavaScript every node is several heap objects and every double field a boxed number; a
 * lookup that walks them pays a dependent load per object before the one cache miss that
 * matters (the slot). The cache replaces them by a fixed sequence of typed-array reads whose
 * addresses follow from the key and from small, hot tables:
 *
 * ```
 * lf (Float64Array), rows of doubles at offsets that are multiples of 4:
 *   offset 0      root row   pre base scale slope off last mapStart 0     (the root's routing)
 *   offset 8 ...  mid rows   pre base scale slope off last mapStart 0     (one per root child)
 *   offset ...    leaf rows  base mul icpt top                            (one per data node)
 * li (Int32Array):
 *   [0, fanout)   root map   root slot -> offset of its child's mid row in lf
 *   [mapStart ..] mid maps   child slot -> offset of the leaf row in lf (a child that is a data
 *                            node has a trivial mid row: slope 0, one map entry)
 * lkv (Float64Array[]):      lkv[offset >> 2] is the slot array of the leaf row at `offset`
 * ```
 *
 * Routing rows hold the exact parameters of their model node, evaluated in the same order as
 * `routeSlot` (`floor(((key * pre - base) * scale) * slope) + off`, clamped to [0, last]), so a
 * key reaches exactly the leaf the tree would give it. Leaf rows hold the data node's model
 * folded to one product (`mul = scale * slope`; a prediction only steers the search) and `top`,
 * the last slot where the 4-slot probe window of `get` may start (`cap - 4`).
 *
 * Keys that the tree routes deeper than two model levels end at a sentinel leaf whose keys are
 * NaN (no probe matches), so `get` falls back to walking the tree. When the tree's shape changes
 * (a node array replaced, a pointer changed) the index installs {@link STALE_TABLES}, which send
 * every key to the sentinel, and rebuilds the tables once enough lookups have paid for it.
 */
import { MODEL_WORDS } from './data-node.js'
import type { AlexNode, ModelNode } from './model-node.js'

/** Slots compared by the probe of `get` (one window starting at the prediction). */
export const PROBE_SLOTS = 4

/** The three tables of a lookup cache (see the module comment). */
export interface LookupTables {
  readonly lf: Float64Array
  readonly li: Int32Array
  readonly lkv: Float64Array[]
  /** Number of entries written when the tables were built (what a rebuild costs). */
  readonly cost: number
}

const ROUTE_ROW = 8
const LEAF_ROW = 4

/** Slot array of the sentinel leaf: NaN keys never equal a searched key. */
const SENTINEL_KV = new Float64Array(4 * PROBE_SLOTS).fill(Number.NaN)

/** Tables that send every key to the sentinel leaf: installed whenever the shape changes. */
export const STALE_TABLES: LookupTables = Object.freeze({
  // Root row at 0 (every key to slot 0), trivial mid row at 8, sentinel leaf row at 16.
  lf: Float64Array.of(0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0),
  li: Int32Array.of(8, 16),
  lkv: [SENTINEL_KV, SENTINEL_KV, SENTINEL_KV, SENTINEL_KV, SENTINEL_KV],
  cost: 0,
})

/** Builds the lookup tables of the tree under `root`. */
export function buildLookupTables(root: AlexNode): LookupTables {
  // Sizes first: distinct children of the root, and the maps of those that are model nodes.
  const rootFanout = root.isData ? 1 : root.children.length
  const mids: AlexNode[] = []
  let mapLen = rootFanout
  let leaves = 1 // the sentinel
  if (root.isData) {
    mids.push(root)
    mapLen += 1
    leaves++
  } else {
    let prev: AlexNode | null = null
    for (const child of root.children) {
      if (child === prev) continue
      prev = child
      mids.push(child)
      if (child.isData) {
        mapLen += 1
        leaves++
      } else {
        mapLen += child.children.length
        let last: AlexNode | null = null
        for (const g of child.children) {
          if (g !== last && g.isData) leaves++
          last = g
        }
      }
    }
  }
  const leafStart = ROUTE_ROW * (1 + mids.length)
  const lf = new Float64Array(leafStart + LEAF_ROW * leaves)
  const li = new Int32Array(mapLen)
  const lkv: Float64Array[] = new Array<Float64Array>(lf.length / 4).fill(SENTINEL_KV)
  const sentinel = leafStart // leaf row 0; its model is all zeros: every key predicts slot 0
  let nextLeaf = leafStart + LEAF_ROW
  const addLeaf = (kv: Float64Array): number => {
    const at = nextLeaf
    nextLeaf += LEAF_ROW
    const h = kv.length - MODEL_WORDS
    lf[at] = kv[h]!
    lf[at + 1] = kv[h + 1]! * kv[h + 2]!
    lf[at + 2] = kv[h + 3]!
    lf[at + 3] = (h >> 1) - PROBE_SLOTS
    lkv[at >> 2] = kv
    return at
  }

  // Root row: a data-node root routes every key to slot 0 ((key * 0 - 0) * 1 * 1 + 0).
  if (root.isData) lf.set([0, 0, 1, 1, 0, 0, 0, 0], 0)
  else setRoute(lf, 0, root, 0)
  let mapAt = rootFanout
  for (let m = 0; m < mids.length; m++) {
    const child = mids[m]!
    const row = ROUTE_ROW * (1 + m)
    if (child.isData) {
      lf.set([0, 0, 1, 1, 0, 0, mapAt, 0], row)
      li[mapAt++] = addLeaf(child.kv)
    } else {
      setRoute(lf, row, child, mapAt)
      let last: AlexNode | null = null
      let leafRow = sentinel
      for (const g of child.children) {
        if (g !== last) leafRow = g.isData ? addLeaf(g.kv) : sentinel
        last = g
        li[mapAt++] = leafRow
      }
    }
  }
  // Root map: each root slot points at its child's mid row (children are in slot order).
  if (root.isData) li[0] = ROUTE_ROW
  else {
    let m = -1
    let prev: AlexNode | null = null
    for (let s = 0; s < rootFanout; s++) {
      const child = root.children[s]!
      if (child !== prev) m++
      prev = child
      li[s] = ROUTE_ROW * (1 + m)
    }
  }
  return { lf, li, lkv, cost: lf.length + li.length }
}

/**
 * Writes model node `m`'s routing row at `row` of `lf`: pre base scale slope off last mapStart 0
 * (also the row format of the deep routing tables, deep-route.ts).
 */
export function setRoute(lf: Float64Array, row: number, m: ModelNode, mapStart: number): void {
  lf[row] = m.pre
  lf[row + 1] = m.base
  lf[row + 2] = m.scale
  lf[row + 3] = m.slope
  lf[row + 4] = m.off
  lf[row + 5] = m.children.length - 1
  lf[row + 6] = mapStart
  lf[row + 7] = 0
}

/**
 * The slot array the tables `lf`, `li`, `lkv` send `key` (a finite number) to: the same
 * computation as the fast path of `AlexIndex.get`, for its slow path and the invariant checker.
 * Takes the tables apart so that the slow path of `get` allocates nothing.
 */
export function cachedLeaf(
  lf: Float64Array,
  li: Int32Array,
  lkv: readonly Float64Array[],
  key: number,
): Float64Array {
  const f = lf
  let x = Math.floor((key * f[0]! - f[1]!) * f[2]! * f[3]!) + f[4]!
  let e = f[5]!
  // biome-ignore lint/complexity/useMathMinMax: the same clamp as in get (NaN maps to 0)
  const m = li[(x > 0 ? (x < e ? x : e) : 0) | 0]!
  x = Math.floor((key * f[m]! - f[m + 1]!) * f[m + 2]! * f[m + 3]!) + f[m + 4]!
  e = f[m + 5]!
  // biome-ignore lint/complexity/useMathMinMax: as above
  const j = li[(f[m + 6]! + (x > 0 ? (x < e ? x : e) : 0)) | 0]!
  return lkv[j >> 2]!
}

/** Whether `kv` is the sentinel slot array (a key the tables do not cover). */
export function isSentinel(kv: Float64Array): boolean {
  return kv === SENTINEL_KV
}
