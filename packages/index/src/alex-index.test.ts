import { describe, expect, it } from 'vitest'
import { AlexIndex } from './alex-index.js'
import { checkInvariants } from './invariants.js'
import { normalizeRange } from './range.js'

const invalidKeys: unknown[] = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  '1',
  1n,
  undefined,
  null,
  {},
]

describe('AlexIndex', () => {
  it('is an ordered map: set, get, has, delete, size, min, max, clear', () => {
    const ix = new AlexIndex()
    expect(ix.size).toBe(0)
    expect(ix.min()).toBeUndefined()
    expect(ix.max()).toBeUndefined()
    expect(ix.set(5, 50)).toBe(ix)
    ix.set(-3, 30).set(1e10, 7)
    expect(ix.size).toBe(3)
    expect(ix.get(5)).toBe(50)
    expect(ix.get(6)).toBeUndefined()
    expect(ix.has(-3)).toBe(true)
    expect(ix.has(4)).toBe(false)
    expect(ix.min()).toBe(-3)
    expect(ix.max()).toBe(1e10)
    ix.set(5, 51)
    expect(ix.size).toBe(3)
    expect(ix.get(5)).toBe(51)
    expect(ix.delete(5)).toBe(true)
    expect(ix.delete(5)).toBe(false)
    expect(ix.get(5)).toBeUndefined()
    expect(ix.size).toBe(2)
    ix.clear()
    expect(ix.size).toBe(0)
    expect([...ix]).toEqual([])
    checkInvariants(ix)
  })

  it('swap sets a payload and returns the one it replaced', () => {
    const ix = new AlexIndex()
    expect(ix.swap(5, 50)).toBeUndefined()
    expect(ix.swap(5, 51)).toBe(50)
    expect(ix.swap(-0, Number.NaN)).toBeUndefined()
    expect(ix.swap(0, 7)).toBeNaN()
    expect([...ix.entries()]).toEqual([
      [0, 7],
      [5, 51],
    ])
    checkInvariants(ix)
  })

  it('treats -0 and 0 as the same key and stores 0', () => {
    const ix = new AlexIndex()
    ix.set(-0, 1)
    expect(ix.get(0)).toBe(1)
    ix.set(0, 2)
    expect(ix.size).toBe(1)
    expect(ix.get(-0)).toBe(2)
    expect(Object.is([...ix.keys()][0], 0)).toBe(true)
    expect(ix.delete(-0)).toBe(true)
    expect(ix.size).toBe(0)
  })

  it('stores payloads exactly: -0, NaN, huge, tiny, integers up to 2^53', () => {
    const payloads = [
      -0,
      Number.NaN,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      Number.MIN_VALUE,
      2 ** 53 - 1,
      Number.POSITIVE_INFINITY,
    ]
    const ix = new AlexIndex({ maxDataNodeSlots: 32 })
    for (const [i, p] of payloads.entries()) ix.set(i, p)
    for (let i = 100; i < 400; i++) ix.set(i, i) // force restructures around them
    for (const [i, p] of payloads.entries()) expect(Object.is(ix.get(i), p)).toBe(true)
    const bulk = AlexIndex.from([3, 1, 2], [-0, Number.NaN, 5])
    expect(Object.is(bulk.get(3), -0)).toBe(true)
    expect(bulk.get(1)).toBeNaN()
  })

  it('rejects invalid keys with ERR_INVALID_KEY and changes nothing', () => {
    const ix = AlexIndex.from([1, 2, 3], [10, 20, 30])
    const before = [...ix.entries()]
    for (const k of invalidKeys) {
      for (const op of [
        () => ix.set(k as number, 1),
        () => ix.swap(k as number, 1),
        () => ix.get(k as number),
        () => ix.has(k as number),
        () => ix.delete(k as number),
      ]) {
        expect(op).toThrow(TypeError)
        expect(op).toThrow(expect.objectContaining({ code: 'ERR_INVALID_KEY' }))
      }
    }
    expect(() => ix.set(4, '1' as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_VALUE' }),
    )
    expect(() => ix.set(4, undefined as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_VALUE' }),
    )
    expect(() => ix.swap(1, '1' as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_VALUE' }),
    )
    expect([...ix.entries()]).toEqual(before)
    expect(ix.size).toBe(3)
    checkInvariants(ix)
  })

  it('bulk loads unsorted input with duplicates (last wins) and typed arrays', () => {
    const ix = AlexIndex.from([5, 1, 5, 3], [50, 10, 51, 30])
    expect([...ix]).toEqual([
      [1, 10],
      [3, 30],
      [5, 51],
    ])
    const keys = Float64Array.from({ length: 10000 }, (_, i) => i * 0.5)
    const big = AlexIndex.from(keys, keys)
    expect(big.size).toBe(10000)
    expect(big.get(2500)).toBe(2500)
    checkInvariants(big)
    expect(AlexIndex.from([], []).size).toBe(0)
  })

  it('iterates in order with ranges, reverse and limit', () => {
    const ix = new AlexIndex({ maxDataNodeSlots: 32 })
    for (let i = 0; i < 500; i++) ix.set((i * 37) % 500, i)
    const all = [...ix.keys()]
    expect(all).toEqual(Array.from({ length: 500 }, (_, i) => i))
    expect([...ix.keys({ gte: 10, lt: 15 })]).toEqual([10, 11, 12, 13, 14])
    expect([...ix.keys({ gt: 10, lte: 15 })]).toEqual([11, 12, 13, 14, 15])
    expect([...ix.keys({ gte: 10, lt: 15, reverse: true })]).toEqual([14, 13, 12, 11, 10])
    expect([...ix.keys({ gt: 490, reverse: true, limit: 3 })]).toEqual([499, 498, 497])
    expect([...ix.keys({ gte: 20, lte: 10 })]).toEqual([])
    expect([...ix.keys({ limit: 0 })]).toEqual([])
    expect([...ix.values({ gte: 3, limit: 2 })]).toEqual([ix.get(3), ix.get(4)])
    expect([...ix.keys({ gt: 1e300 })]).toEqual([])
    expect([...ix.keys({ lt: -1e300, reverse: true })]).toEqual([])
    expect([
      ...ix.keys({ lte: Number.POSITIVE_INFINITY, gte: Number.NEGATIVE_INFINITY }),
    ]).toHaveLength(500)
  })

  it('forEach visits (payload, key, index) in order and supports ranges', () => {
    const ix = AlexIndex.from([1, 2, 3, 4], [10, 20, 30, 40])
    const seen: number[][] = []
    ix.forEach((v, k, me) => {
      expect(me).toBe(ix)
      seen.push([k, v])
    })
    expect(seen).toEqual([
      [1, 10],
      [2, 20],
      [3, 30],
      [4, 40],
    ])
    const rev: number[] = []
    ix.forEach(
      (_v, k) => {
        rev.push(k)
      },
      { reverse: true, gt: 1 },
    )
    expect(rev).toEqual([4, 3, 2])
    expect(() => ix.forEach(5 as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
  })

  it('scan copies a range into typed arrays without a callback', () => {
    const keys = Array.from({ length: 1000 }, (_, i) => i * 3)
    const ix = AlexIndex.from(
      keys,
      keys.map((k) => -k),
      { maxDataNodeSlots: 64 },
    )
    const ks = new Float64Array(100)
    const vs = new Float64Array(100)
    expect(ix.scan(ks, vs, { gte: 299 })).toBe(100)
    expect(ks[0]).toBe(300)
    expect(vs[99]).toBe(-(300 + 99 * 3))
    expect(ix.scan(ks, null, { gt: 2990 })).toBe(3)
    expect(ix.scan(null, vs, { lt: 10, reverse: true })).toBe(4)
    expect([...vs.subarray(0, 4)]).toEqual([-9, -6, -3, -0])
    expect(() => ix.scan(null, null)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
  })

  it('scanNormalized scans a range normalised once exactly as scan does', () => {
    const keys = Array.from({ length: 500 }, (_, i) => i * 2)
    const ix = AlexIndex.from(keys, keys, { maxDataNodeSlots: 64 })
    for (const range of [{ gte: 11, lt: 300 }, { gt: 100, reverse: true, limit: 7 }, {}]) {
      const a = new Float64Array(600)
      const b = new Float64Array(600)
      const n = ix.scan(a, null, range)
      expect(ix.scanNormalized(b, null, normalizeRange(range))).toBe(n)
      expect(b).toEqual(a)
    }
  })

  it('iterators are live: no repeats or skips of surviving keys when modified', () => {
    const ix = new AlexIndex({ maxDataNodeSlots: 32 })
    for (let i = 0; i < 200; i += 2) ix.set(i, i)
    const seen: number[] = []
    for (const k of ix.keys()) {
      seen.push(k)
      if (k === 10) {
        ix.set(11, 11) // ahead: seen
        ix.set(3, 3) // behind: not seen
        ix.delete(12) // ahead: not seen
        for (let j = 1000; j < 1300; j++) ix.set(j, j) // forces splits
      }
    }
    expect(seen.slice(0, 8)).toEqual([0, 2, 4, 6, 8, 10, 11, 14])
    expect(seen).not.toContain(3)
    expect(seen).not.toContain(12)
    expect(seen[seen.length - 1]).toBe(1299)
    for (let j = 1; j < seen.length; j++) expect(seen[j]!).toBeGreaterThan(seen[j - 1]!)
    // forEach follows the same rule, including deletes of the current key.
    const visited: number[] = []
    ix.forEach((_v, k) => {
      visited.push(k)
      ix.delete(k)
    })
    expect(ix.size).toBe(0)
    expect(visited).toHaveLength(new Set(visited).size)
    checkInvariants(ix)
  })

  it('keeps the lookup cache exact across restructures, merges and clear', () => {
    const ix = AlexIndex.from(
      Array.from({ length: 4000 }, (_, i) => i),
      Array.from({ length: 4000 }, (_, i) => -i),
      { maxDataNodeSlots: 64 },
    )
    const readAll = () => {
      for (let r = 0; r < 3; r++) for (let k = 0; k < 4000; k += 7) ix.get(k)
    }
    readAll()
    expect(ix._cacheShape).toBe(ix._shape)
    checkInvariants(ix)
    for (let round = 0; round < 5; round++) {
      for (let k = round; k < 4000; k += 5) ix.set(k + 0.5, k) // expansions and splits
      readAll()
      for (let k = 0; k < 4000; k += 2) expect(ix.get(k)).toBe(-k)
      for (let k = round; k < 4000; k += 5) expect(ix.get(k + 0.5)).toBe(k)
      checkInvariants(ix)
    }
    for (let k = 0; k < 4000; k++) ix.delete(k) // contractions and merges
    readAll()
    expect(ix.get(3)).toBeUndefined()
    expect(ix.get(3.5)).toBe(3)
    checkInvariants(ix)
    ix.clear()
    readAll()
    expect(ix.get(3.5)).toBeUndefined()
    ix.set(1, 1)
    expect(ix.get(1)).toBe(1)
    checkInvariants(ix)
  })

  it('reports stats', () => {
    const keys = Array.from({ length: 50000 }, (_, i) => i)
    const ix = AlexIndex.from(keys, keys)
    for (let i = 50000; i < 60000; i++) ix.set(i, i)
    const s = ix.stats()
    expect(s.totalKeys).toBe(60000)
    expect(s.height).toBeGreaterThanOrEqual(2)
    expect(s.dataNodes).toBeGreaterThan(1)
    expect(s.modelNodes).toBeGreaterThanOrEqual(1)
    expect(s.bytesPerKey).toBeGreaterThan(16)
    expect(s.bytesPerKey).toBeLessThan(32)
    expect(s.inserts).toBe(10000)
    expect(s.averageShiftsPerInsert).toBeGreaterThanOrEqual(0)
    expect(s.averageSearchIterations).toBeGreaterThanOrEqual(0)
    expect(new AlexIndex().stats().bytesPerKey).toBe(0)
  })
})
