/**
 * ALEX model node: a linear model routing a key to one of a power-of-two number of child
 * pointers. A child may own several consecutive pointers (duplicated pointers for a sparse part
 * of the key space); each child's pointers form one run whose length is a power of two and whose
 * start is a multiple of that length, so runs can be halved (sideways split) or doubled.
 *
 * Routing is `slot = floor(((key * pre - base) * scale) * slope) + off`, clamped to the array
 * (`pre` is 1 except for domains wider than the double range allows, see Domain). Raw
 * slots outside [0, fanout) are "out of domain"; the integer `off` lets the array grow to the
 * left without touching base or slope, so every existing key keeps its child exactly.
 */
import type { DataNode } from './data-node.js'
import { type Domain, scaleFor } from './linear-model.js'

/** Either kind of node. */
export type AlexNode = ModelNode | DataNode

/** An inner node of the ALEX tree. Fields are internal; use the functions of this module. */
export class ModelNode {
  /** Discriminant shared with DataNode. */
  readonly isData = false as const
  /** Child pointers, a power-of-two count. */
  children: AlexNode[]
  pre: number
  base: number
  scale: number
  slope: number
  off: number
  /**
   * The index's insert count when the bulk loader built this node, the keys it was built over
   * and the height it was built with: the depth bound rebuilds a subtree only after as many inserts as half its keys since
   * (see depth-bound.ts), so rebuilds are paid for by inserts.
   */
  stamp = 0
  builtKeys = 0
  /** Levels of this node's subtree as the bulk loader built it (a lone data node is 1). */
  builtHeight = 0

  constructor(
    children: AlexNode[],
    pre: number,
    base: number,
    scale: number,
    slope: number,
    off: number,
  ) {
    this.children = children
    this.pre = pre
    this.base = base
    this.scale = scale
    this.slope = slope
    this.off = off
  }
}

/** A model node of `fanout` slots evenly covering a domain; children unset. */
export function makeModelNode(fanout: number, d: Domain): ModelNode {
  const scale = scaleFor(d.span)
  const slope = fanout / (d.span * scale)
  return new ModelNode(new Array<AlexNode>(fanout), d.pre, d.base, scale, slope, 0)
}

/** Unclamped slot of `key` (may be negative, >= fanout, or ±Infinity). */
export function routeRaw(m: ModelNode, key: number): number {
  return Math.floor((key * m.pre - m.base) * m.scale * m.slope) + m.off
}

/** Slot of `key`, clamped to the pointer array. */
export function routeSlot(m: ModelNode, key: number): number {
  const r = Math.floor((key * m.pre - m.base) * m.scale * m.slope) + m.off
  const last = m.children.length - 1
  // biome-ignore lint/complexity/useMathMinMax: hot path; NaN-free here, the ternary is tighter
  return r > 0 ? (r < last ? r : last) : 0
}

/** Start and length of the run of pointers to `child` that contains `slot`. */
export function runOf(m: ModelNode, slot: number, out: { start: number; len: number }): void {
  const ch = m.children
  const child = ch[slot]
  let len = 1
  while (len < ch.length) {
    const s = slot & ~(2 * len - 1)
    if (ch[s] !== child || ch[s + 2 * len - 1] !== child) break
    len *= 2
  }
  out.start = slot & ~(len - 1)
  out.len = len
}

/** Doubles the pointer array; every key keeps its child (slot 2s or 2s+1 for old slot s). */
export function doubleFanout(m: ModelNode): void {
  const old = m.children
  const n = old.length
  const ch = new Array<AlexNode>(2 * n)
  for (let i = 0; i < n; i++) {
    const c = old[i]!
    ch[2 * i] = c
    ch[2 * i + 1] = c
  }
  m.children = ch
  m.slope *= 2
  m.off *= 2
}

/**
 * Grows the pointer array `2^e`-fold on the right (`left` false) or the left, filling the new
 * slots with runs of sizes n, 2n, 4n, ... (outward) whose nodes come from `make`, called in
 * key order. Existing keys keep their children exactly.
 */
export function growDomain(
  m: ModelNode,
  e: number,
  left: boolean,
  make: (len: number) => AlexNode,
): AlexNode[] {
  const old = m.children
  const n = old.length
  const total = n * 2 ** e
  const ch = new Array<AlexNode>(total)
  const made: AlexNode[] = []
  if (!left) {
    for (let i = 0; i < n; i++) ch[i] = old[i]!
    for (let s = n; s < total; s *= 2) {
      const node = make(s)
      made.push(node)
      for (let i = s; i < 2 * s; i++) ch[i] = node
    }
  } else {
    const delta = total - n
    for (let i = 0; i < n; i++) ch[delta + i] = old[i]!
    // Runs from the far left inward: [0, total/2), [total/2, 3total/4), ..., [delta - n, delta).
    let s = 0
    for (let len = total / 2; len >= n; len /= 2) {
      const node = make(len)
      made.push(node)
      for (let i = s; i < s + len; i++) ch[i] = node
      s += len
    }
    m.off += delta
  }
  m.children = ch
  return made
}
