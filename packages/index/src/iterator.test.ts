import { describe, expect, it } from 'vitest'
import { AlexIndex } from './alex-index.js'
import { AlexIterator, Yield } from './iterator.js'
import { normalizeRange } from './range.js'

describe('AlexIterator', () => {
  it('yields entries, keys or values and is its own iterable', () => {
    const ix = AlexIndex.from([1, 2, 3], [10, 20, 30])
    const it = new AlexIterator<number>(ix, normalizeRange({ gt: 1 }), Yield.Keys)
    expect(it[Symbol.iterator]()).toBe(it)
    expect([...it]).toEqual([2, 3])
    expect(it.next()).toEqual({ value: undefined, done: true })
    const vals = new AlexIterator<number>(ix, normalizeRange({ reverse: true }), Yield.Values)
    expect([...vals]).toEqual([30, 20, 10])
  })

  it('return() ends the iteration', () => {
    const ix = AlexIndex.from([1, 2, 3], [10, 20, 30])
    const it = ix.keys()
    expect(it.next().value).toBe(1)
    it.return?.()
    expect(it.next().done).toBe(true)
  })

  it('reverse iteration stays live under deletes and inserts behind and ahead', () => {
    const ix = new AlexIndex({ maxDataNodeSlots: 32 })
    for (let i = 0; i < 300; i++) ix.set(i, i)
    const seen: number[] = []
    for (const k of ix.keys({ reverse: true })) {
      seen.push(k)
      if (k === 250) {
        ix.delete(249) // ahead: skipped
        ix.set(260.5, 0) // behind: not seen
        for (let j = 0; j < 100; j++) ix.set(-1 - j, 0) // ahead, with splits: seen
      }
    }
    expect(seen).not.toContain(249)
    expect(seen).not.toContain(260.5)
    expect(seen[seen.length - 1]).toBe(-100)
    for (let j = 1; j < seen.length; j++) expect(seen[j]!).toBeLessThan(seen[j - 1]!)
    expect(seen).toHaveLength(300 - 1 + 100)
  })
})
