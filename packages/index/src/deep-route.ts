/**
 * Deep routing tables: every model node of the tree flattened into two typed arrays, so that a
 * lookup the two-level lookup cache does not cover (a key more than two model levels deep) walks
 * rows of numbers instead of node objects.
 *
 * Why: on clustered and gapped keys (issue #14) the tree is 4-9 levels deep, and in JavaScript a
 * model node is several heap objects (the node, its children array, a boxed number per double
 * field), so walking one level costs several dependent cache misses. A row here costs two: the
 * row of 8 doubles and one map entry.
 *
 * ```
 * rf (Float64Array), one row of 8 doubles per model node, the root's at offset 0:
 *   pre base scale slope off last mapStart 0
 * ri (Int32Array), one map per model node, `fanout` entries from its mapStart:
 *   >= 0    offset in rf of the child's row (the child is a model node)
 *   < 0     -(leaf + 1): the child is a data node whose slot array is rkv[leaf]
 * rkv (Float64Array[]): slot arrays of the data nodes, in key order
 * ```
 *
 * A row holds the exact parameters of its model node and is evaluated in the same order as
 * `routeSlot`, so a key reaches exactly the leaf the tree would give it. Like the lookup cache,
 * the tables are only valid for the shape they were built from: the index drops them with the
 * lookup cache whenever a node array is replaced or a pointer changes.
 */
import { setRoute } from './lookup-cache.js'
import type { AlexNode, ModelNode } from './model-node.js'

/** Flattened model nodes of a whole tree (see the module comment). */
export interface DeepTables {
  readonly rf: Float64Array
  readonly ri: Int32Array
  readonly rkv: Float64Array[]
  /** Numbers written when the tables were built (what a rebuild costs). */
  readonly cost: number
}

const ROW = 8

/** Tables of no tree: installed while stale, and for trees the lookup cache covers whole. */
export const NO_DEEP_TABLES: DeepTables = Object.freeze({
  rf: new Float64Array(0),
  ri: new Int32Array(0),
  rkv: [],
  cost: 0,
})

/**
 * Builds the deep tables of the tree under `root`, or returns {@link NO_DEEP_TABLES} when no key
 * is more than two model levels deep (the lookup cache then covers every key).
 */
export function buildDeepTables(root: AlexNode): DeepTables {
  if (root.isData || !hasDeepLevel(root)) return NO_DEEP_TABLES
  // Model nodes in breadth-first order; each gets a row and a map.
  const models: ModelNode[] = [root]
  const rowOf = new Map<ModelNode, number>([[root, 0]])
  let mapLen = 0
  for (let i = 0; i < models.length; i++) {
    const m = models[i]!
    mapLen += m.children.length
    let prev: AlexNode | null = null
    for (const c of m.children) {
      if (c === prev) continue
      prev = c
      if (!c.isData) {
        rowOf.set(c, ROW * models.length)
        models.push(c)
      }
    }
  }
  const rf = new Float64Array(ROW * models.length)
  const ri = new Int32Array(mapLen)
  const rkv: Float64Array[] = []
  let mapAt = 0
  for (let i = 0; i < models.length; i++) {
    const m = models[i]!
    setRoute(rf, ROW * i, m, mapAt)
    let prev: AlexNode | null = null
    let entry = 0
    for (const c of m.children) {
      if (c !== prev) {
        prev = c
        if (c.isData) {
          rkv.push(c.kv)
          entry = -rkv.length
        } else entry = rowOf.get(c)!
      }
      ri[mapAt++] = entry
    }
  }
  return { rf, ri, rkv, cost: rf.length + ri.length + rkv.length }
}

/** Whether some grandchild of `root` (a model node) is a model node. */
function hasDeepLevel(root: ModelNode): boolean {
  for (const c of root.children) {
    if (c.isData) continue
    for (const g of c.children) if (!g.isData) return true
  }
  return false
}

/**
 * The slot array of the data node the tables route `key` (a finite number) to. Takes the tables
 * apart so that the slow path of `get` allocates nothing; `rf` must not be empty.
 */
export function deepLeaf(
  rf: Float64Array,
  ri: Int32Array,
  rkv: readonly Float64Array[],
  key: number,
): Float64Array {
  let r = 0
  for (;;) {
    const x = Math.floor((key * rf[r]! - rf[r + 1]!) * rf[r + 2]! * rf[r + 3]!) + rf[r + 4]!
    const e = rf[r + 5]!
    // biome-ignore lint/complexity/useMathMinMax: the same clamp as routeSlot (NaN maps to 0)
    const c = ri[(rf[r + 6]! + (x > 0 ? (x < e ? x : e) : 0)) | 0]!
    if (c < 0) return rkv[-c - 1]!
    r = c
  }
}
