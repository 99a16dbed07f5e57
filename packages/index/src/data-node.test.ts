import { describe, expect, it } from 'vitest'
import { isSet } from './bitmap.js'
import {
  chooseLayout,
  DataNode,
  extract,
  findPos,
  insertAbsent,
  layout,
  modelOf,
  predict,
  removeAt,
  setPayloadAt,
  upperBound,
} from './data-node.js'

/** Checks the gapped-array invariants of one node against the expected entries. */
function checkNode(node: DataNode, want: Map<number, number>): void {
  const keys = [...want.keys()].sort((a, b) => a - b)
  const got: number[] = []
  let next = Number.POSITIVE_INFINITY
  let nextPayload = Number.POSITIVE_INFINITY
  for (let i = node.cap - 1; i >= 0; i--) {
    const k = node.kv[2 * i]!
    if (isSet(node.bitmap, i)) {
      expect(k).toBeLessThan(next)
      expect(Object.is(node.kv[2 * i + 1], want.get(k))).toBe(true)
      got.unshift(k)
      next = k
      nextPayload = node.kv[2 * i + 1]!
    } else {
      expect(k).toBe(next)
      if (next !== Number.POSITIVE_INFINITY)
        expect(Object.is(node.kv[2 * i + 1], nextPayload)).toBe(true)
    }
  }
  expect(got).toEqual(keys)
  expect(node.numKeys).toBe(keys.length)
  for (const k of keys) expect(node.kv[2 * findPos(node, k) + 1]).toBe(want.get(k))
}

function build(keys: number[], cap: number, lo = 0, hi = cap): DataNode {
  const node = new DataNode(8, 0.8)
  const ks = Float64Array.from(keys)
  layout(
    node,
    ks,
    ks.map((k) => k * 10),
    0,
    ks.length,
    cap,
    lo,
    hi,
    0.8,
  )
  return node
}

function insert(node: DataNode, key: number, payload: number, force = false): number {
  const p = predict(node, key)
  const i = upperBound(node.kv, node.cap, key, p)
  return insertAbsent(node, key, payload, i, p, force)
}

describe('data-node', () => {
  it('lays out keys in order with gaps repeating the next key and payload', () => {
    const keys = Array.from({ length: 70 }, (_, i) => i * i)
    const node = build(keys, 100)
    checkNode(node, new Map(keys.map((k) => [k, k * 10])))
    expect(node.maxPos).toBeLessThan(100)
    expect(node.expectedIters).toBeGreaterThanOrEqual(0)
    expect(modelOf(node)[2]).toBeGreaterThan(0)
  })

  it('upperBound finds the first greater slot from any starting prediction', () => {
    const keys = Array.from({ length: 50 }, (_, i) => 2 * i)
    const node = build(keys, 80)
    for (let key = -1; key <= 100; key++) {
      let want = 0
      while (want < node.cap && node.kv[2 * want]! <= key) want++
      for (const p of [0, 13, 40, 79]) expect(upperBound(node.kv, node.cap, key, p)).toBe(want)
    }
  })

  it('inserts into gaps and by shifting, keeping every invariant, until full', () => {
    const want = new Map<number, number>()
    const node = build([], 64)
    let seed = 3
    while (node.numKeys < 63) {
      seed = (seed * 1103515245 + 12345) % 2147483648
      const key = seed % 1000
      if (want.has(key)) continue
      const shifts = insert(node, key, key + 0.5, true)
      expect(shifts).toBeGreaterThanOrEqual(0)
      want.set(key, key + 0.5)
      checkNode(node, want)
    }
    // One gap left: a full node refuses nothing yet; with no gap at all it asks for a resize.
    insert(node, 5000, 1, true)
    want.set(5000, 1)
    checkNode(node, want)
    expect(insert(node, 6000, 1, true)).toBe(-1)
    checkNode(node, want)
  })

  it('asks for a resize instead of a long shift at the edge unless forced', () => {
    const keys = Array.from({ length: 40 }, (_, i) => i)
    const node = build(keys, 64, 24, 64) // keys packed at the right end
    expect(insert(node, 100, 1)).toBe(-1) // append with no room on the right
    expect(insert(node, 100, 1, true)).toBeGreaterThan(0)
    expect(findPos(node, 100)).toBeGreaterThan(-1)
  })

  it('appends past the last key without shifting', () => {
    const node = build([1, 2, 3], 32, 0, 4)
    for (let k = 4; k < 20; k++) expect(insert(node, k, k)).toBe(0)
    expect(node.numAppends).toBe(16)
  })

  it('removes keys and refills gaps; payload updates reach the gaps', () => {
    const keys = Array.from({ length: 30 }, (_, i) => i * 3)
    const node = build(keys, 64)
    const want = new Map(keys.map((k) => [k, k * 10]))
    setPayloadAt(node, findPos(node, 30), -0)
    want.set(30, -0)
    checkNode(node, want)
    for (const k of [0, 87, 45, 30]) {
      removeAt(node, findPos(node, k))
      want.delete(k)
      checkNode(node, want)
    }
    const ks = new Float64Array(64)
    const vs = new Float64Array(64)
    expect(extract(node, ks, vs, 0)).toBe(26)
    expect([...ks.subarray(0, 26)]).toEqual([...want.keys()].sort((a, b) => a - b))
  })

  it('chooseLayout leaves room on the side inserts come from', () => {
    const out = { cap: 0, lo: 0, hi: 0 }
    chooseLayout(800, 0.9, 0, 0.55, 0.8, 1 << 14, out)
    expect(out.lo).toBe(0)
    expect(out.cap - out.hi).toBeGreaterThanOrEqual(out.hi - 1)
    chooseLayout(800, 0, 0.9, 0.55, 0.8, 1 << 14, out)
    expect(out.hi).toBe(out.cap)
    expect(out.lo).toBeGreaterThan(0)
    chooseLayout(800, 0.1, 0.1, 0.55, 0.8, 1 << 14, out)
    expect(out).toEqual({ cap: Math.ceil(800 / 0.55), lo: 0, hi: Math.ceil(800 / 0.55) })
  })
})
