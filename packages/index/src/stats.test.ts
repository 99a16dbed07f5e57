import { describe, expect, it } from 'vitest'
import { AlexIndex } from './alex-index.js'
import { computeStats } from './stats.js'

describe('stats', () => {
  it('counts each node once despite duplicated pointers and adds up keys and slots', () => {
    const keys = [...Array.from({ length: 3000 }, (_, i) => i), 1e9, 2e9]
    const ix = AlexIndex.from(keys, keys, { maxDataNodeSlots: 64 })
    const s = computeStats(ix)
    expect(s.totalKeys).toBe(keys.length)
    let leaves = 0
    let slots = 0
    let node: AlexIndex['_root'] = ix._root
    while (!node.isData) node = node.children[0]!
    for (let l: typeof node | null = node; l !== null; l = l.next) {
      leaves++
      slots += l.cap
    }
    expect(s.dataNodes).toBe(leaves)
    expect(s.totalSlots).toBe(slots)
    expect(s.height).toBeGreaterThanOrEqual(2)
    expect(s.bytes).toBeGreaterThan(slots * 16)
    expect(s.averageKeyDepth).toBeGreaterThan(0)
    expect(s.inserts).toBe(0)
  })

  it('averages search distance and shifts over inserts of new keys only', () => {
    const ix = new AlexIndex()
    for (let i = 0; i < 1000; i++) ix.set((i * 7919) % 1000, i)
    for (let i = 0; i < 1000; i++) ix.set(i, 0) // overwrites do not count
    const s = ix.stats()
    expect(s.inserts).toBe(1000)
    expect(s.averageSearchDistance).toBeGreaterThanOrEqual(0)
    expect(s.averageSearchIterations).toBeLessThanOrEqual(s.averageSearchDistance + 1)
    expect(s.averageShiftsPerInsert).toBeGreaterThanOrEqual(0)
  })
})
