/**
 * Walking the tree and the leaf list: finding the leaf of a key, the first/last leaf, and
 * positioning a cursor on the first entry above or below a key.
 */
import { isSet, nextSet, prevSet } from './bitmap.js'
import { type DataNode, predict, upperBound } from './data-node.js'
import { type AlexNode, routeSlot } from './model-node.js'

/** The data node `key` routes to (clamped routing, no domain growth). */
export function leafFor(root: AlexNode, key: number): DataNode {
  let node = root
  while (!node.isData) node = node.children[routeSlot(node, key)]!
  return node
}

/** The first data node in key order. */
export function leftmostLeaf(root: AlexNode): DataNode {
  let node = root
  while (!node.isData) node = node.children[0]!
  return node
}

/** The last data node in key order. */
export function rightmostLeaf(root: AlexNode): DataNode {
  let node = root
  while (!node.isData) node = node.children[node.children.length - 1]!
  return node
}

/** A position in the leaf list: an occupied slot of `leaf`, or `leaf` null past the end. */
export interface Cursor {
  leaf: DataNode | null
  pos: number
}

/** Positions `c` on the first entry whose key is > `key` (>= if `inclusive`). */
export function seekForward(root: AlexNode, key: number, inclusive: boolean, c: Cursor): void {
  const leaf = leafFor(root, key)
  const i = upperBound(leaf.kv, leaf.cap, key, predict(leaf, key))
  let pos: number
  if (inclusive && i > 0 && leaf.kv[2 * i - 2] === key) pos = i - 1
  else pos = nextSet(leaf.bitmap, i, leaf.cap)
  c.leaf = leaf
  c.pos = pos
  settleForward(c)
}

/** Moves a cursor whose position ran past its leaf to the first entry of a later leaf. */
export function settleForward(c: Cursor): void {
  let leaf = c.leaf
  let pos = c.pos
  while (leaf !== null && pos >= leaf.cap) {
    leaf = leaf.next
    if (leaf !== null) pos = nextSet(leaf.bitmap, 0, leaf.cap)
  }
  c.leaf = leaf
  c.pos = pos
}

/** Positions `c` on the last entry whose key is < `key` (<= if `inclusive`). */
export function seekBackward(root: AlexNode, key: number, inclusive: boolean, c: Cursor): void {
  const leaf = leafFor(root, key)
  let pos = upperBound(leaf.kv, leaf.cap, key, predict(leaf, key)) - 1
  if (pos >= 0 && !isSet(leaf.bitmap, pos)) pos = prevSet(leaf.bitmap, pos)
  if (!inclusive && pos >= 0 && leaf.kv[2 * pos] === key) pos = prevSet(leaf.bitmap, pos - 1)
  c.leaf = leaf
  c.pos = pos
  settleBackward(c)
}

/** Moves a cursor whose position ran before its leaf to the last entry of an earlier leaf. */
export function settleBackward(c: Cursor): void {
  let leaf = c.leaf
  let pos = c.pos
  while (leaf !== null && pos < 0) {
    leaf = leaf.prev
    if (leaf !== null) pos = leaf.maxPos
  }
  c.leaf = leaf
  c.pos = pos
}
