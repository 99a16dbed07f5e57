import { describe, expect, it } from 'vitest'
import { AlexIndex } from './alex-index.js'
import type { DataNode } from './data-node.js'
import { InvariantError } from './errors.js'
import { checkInvariants } from './invariants.js'
import type { ModelNode } from './model-node.js'

function sample(): AlexIndex {
  const keys = Array.from({ length: 3000 }, (_, i) => i * 2)
  return AlexIndex.from(keys, keys, { maxDataNodeSlots: 64 })
}

function firstLeaf(ix: AlexIndex): DataNode {
  let node = ix._root
  while (!node.isData) node = node.children[0]!
  return node
}

function brokenAs(ix: AlexIndex): string {
  try {
    checkInvariants(ix)
  } catch (e) {
    expect(e).toBeInstanceOf(InvariantError)
    expect((e as InvariantError).code).toBe('ERR_INVARIANT')
    return (e as InvariantError).invariant
  }
  return 'none'
}

describe('checkInvariants', () => {
  it('accepts a healthy index', () => {
    expect(brokenAs(sample())).toBe('none')
  })

  it('names a broken gap fill', () => {
    const ix = sample()
    const leaf = firstLeaf(ix)
    let gap = 0
    while (leaf.bitmap[gap >>> 5]! & (1 << (gap & 31))) gap++
    leaf.kv[2 * gap] = -12345
    expect(brokenAs(ix)).toBe('gap-fill')
  })

  it('names a wrong size, a broken leaf link, a bitmap mismatch and a bad pointer run', () => {
    const a = sample()
    a._size++
    expect(brokenAs(a)).toBe('size')
    const b = sample()
    firstLeaf(b).next = null
    expect(brokenAs(b)).toBe('leaf-links')
    const c = sample()
    firstLeaf(c).numKeys++
    expect(brokenAs(c)).toBe('bitmap')
    const d = sample()
    const root = d._root as ModelNode
    expect(root.isData).toBe(false)
    const ch = root.children
    expect(ch[0]).not.toBe(ch[ch.length - 1])
    ch[0] = ch[ch.length - 1]!
    expect(['pointer-runs', 'unique-child', 'leaf-links', 'size']).toContain(brokenAs(d))
  })

  it('names unsorted keys', () => {
    const ix = sample()
    const leaf = firstLeaf(ix)
    const last = leaf.maxPos
    leaf.kv[2 * last] = -1
    expect(['sorted-order', 'gap-fill']).toContain(brokenAs(ix))
  })
})
