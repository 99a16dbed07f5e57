/**
 * Depth bound (issue #14): how many levels a subtree of n keys may have before it is rebuilt by
 * the bulk loader, and the walk that measures a subtree's keys and height. Inserts deepen an
 * ALEX tree only by downward splits; on key sets a linear model routes poorly (gapped ids) or
 * that grow at one edge (a queue window) those pile up into trees 7-24 levels deep where a bulk
 * load of the same keys has 3-5. See docs/index-design.md, "Depth bound".
 */
import type { DataNode } from './data-node.js'
import type { AlexNode, ModelNode } from './model-node.js'
import type { Config } from './options.js'

/** Levels a subtree may have beyond the estimate of a bulk load of its keys. */
export const DEPTH_SLACK = 2
/** Fanout assumed per model level by the estimate (capped by `maxFanout`). */
const ESTIMATE_FANOUT = 64

/**
 * Most levels (a lone data node is 1) a subtree of `n` keys may have: a data-node level, plus
 * one model level per factor of 64 (or `maxFanout`) in the number of full build-sized leaves,
 * plus DEPTH_SLACK. For the defaults: 5 levels up to 23M keys, 6 up to 1.5G.
 */
export function heightBound(n: number, cfg: Config): number {
  const leaves = n / cfg.maxBuildKeys
  const base = Math.min(ESTIMATE_FANOUT, cfg.maxFanout)
  const levels = leaves <= 1 ? 1 : 1 + Math.ceil(Math.log(leaves) / Math.log(base) - 1e-9)
  return levels + DEPTH_SLACK
}

/**
 * Most levels the subtree of model node `m` may have while it holds `n` keys: the fixed
 * {@link heightBound}, or, for keys a bulk load cannot route in that many levels (hard sets,
 * small fanouts), DEPTH_SLACK more than the bulk load built it with, plus one level per factor
 * of 64 (or `maxFanout`) the keys have grown by since. A rebuild resets the reference, so a
 * bulk load is never rebuilt for being as deep as a bulk load is.
 */
export function allowedHeight(m: ModelNode, n: number, cfg: Config): number {
  const base = Math.min(ESTIMATE_FANOUT, cfg.maxFanout)
  const growth =
    m.builtKeys > 0 && n > m.builtKeys
      ? Math.ceil(Math.log(n / m.builtKeys) / Math.log(base) - 1e-9)
      : 0
  return Math.max(heightBound(n, cfg), m.builtHeight + DEPTH_SLACK + growth)
}

/**
 * Records on every model node of a freshly built subtree the height the bulk loader gave it;
 * returns the subtree's height. O(nodes and pointers).
 */
export function recordHeights(node: AlexNode): number {
  if (node.isData) return 1
  let h = 0
  let prev: AlexNode | null = null
  for (const child of node.children) {
    if (child !== prev) {
      const c = recordHeights(child)
      if (c > h) h = c
    }
    prev = child
  }
  node.builtHeight = h + 1
  return h + 1
}

/** Keys and height of a subtree (out parameters, so the walk allocates nothing). */
export interface Shape {
  keys: number
  height: number
}

/**
 * Measures the subtree under `node` into `out`, each node counted once despite duplicated
 * pointers. `known`, if not null, is a child whose shape was measured already (`knownShape`):
 * the walk up a path measures each ancestor from its child's figures in O(the other nodes).
 * O(nodes and pointers of the subtree), never O(keys).
 */
export function measure(
  node: AlexNode,
  known: AlexNode | null,
  knownShape: Shape | null,
  out: Shape,
): void {
  out.keys = 0
  out.height = 0
  walk(node, 1, known, knownShape, out)
}

function walk(
  node: AlexNode,
  level: number,
  known: AlexNode | null,
  knownShape: Shape | null,
  out: Shape,
): void {
  if (node === known && knownShape !== null) {
    out.keys += knownShape.keys
    const h = level - 1 + knownShape.height
    if (h > out.height) out.height = h
    return
  }
  if (node.isData) {
    const d: DataNode = node
    out.keys += d.numKeys
    if (level > out.height) out.height = level
    return
  }
  let prev: AlexNode | null = null
  for (const child of node.children) {
    if (child !== prev) walk(child, level + 1, known, knownShape, out)
    prev = child
  }
}
