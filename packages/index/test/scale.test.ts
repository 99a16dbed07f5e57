/**
 * Larger workloads against a Map: 200k keys by random inserts, by bulk load plus inserts, and
 * by appends, then deletes; every answer checked, invariants checked at the end, memory within
 * the 32 bytes/key target.
 */
import { rng } from '@alex/test-support'
import { describe, expect, it } from 'vitest'
import { AlexIndex, checkInvariants } from '../src/index.js'

const N = 200_000

function verify(ix: AlexIndex, ref: Map<number, number>): void {
  expect(ix.size).toBe(ref.size)
  for (const [k, v] of ref) if (ix.get(k) !== v) expect(ix.get(k)).toBe(v)
  const sorted = [...ref.keys()].sort((a, b) => a - b)
  let i = 0
  ix.forEach((v, k) => {
    if (k !== sorted[i] || v !== ref.get(k))
      expect([k, v]).toEqual([sorted[i], ref.get(sorted[i]!)])
    i++
  })
  expect(i).toBe(sorted.length)
  checkInvariants(ix)
}

describe('scale', () => {
  for (const dist of ['uniform', 'lognormal'] as const) {
    it(`${dist}: random inserts, bulk load + inserts, deletes`, () => {
      const rnd = rng(dist.length)
      const gen = () =>
        dist === 'uniform'
          ? Math.floor(rnd() * 2 ** 40)
          : Math.exp(2 * Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd()))
      const keys = Array.from({ length: N }, gen)
      const ref = new Map<number, number>()
      const ix = new AlexIndex()
      keys.forEach((k, i) => {
        ix.set(k, i)
        ref.set(k, i)
      })
      verify(ix, ref)
      expect(ix.stats().bytesPerKey).toBeLessThanOrEqual(32)

      const half = keys.slice(0, N / 2)
      const bulk = AlexIndex.from(half, half)
      const ref2 = new Map(half.map((k) => [k, k]))
      for (const k of keys.slice(N / 2)) {
        bulk.set(k, -k)
        ref2.set(k, -k)
      }
      verify(bulk, ref2)
      expect(bulk.stats().bytesPerKey).toBeLessThanOrEqual(32)

      for (let i = 0; i < N; i += 2) {
        expect(ix.delete(keys[i]!)).toBe(ref.delete(keys[i]!))
      }
      verify(ix, ref)
    })
  }

  it('appends and prepends stay dense and shallow', () => {
    const ix = new AlexIndex()
    for (let i = 0; i < N; i++) ix.set(1.7e12 + i * 13 + (i % 7), i)
    for (let i = 1; i <= N / 4; i++) ix.set(-i, -i)
    const s = ix.stats()
    expect(s.height).toBeLessThanOrEqual(3)
    expect(s.bytesPerKey).toBeLessThanOrEqual(32)
    expect(s.averageShiftsPerInsert).toBeLessThan(2)
    checkInvariants(ix)
    expect(ix.min()).toBe(-N / 4)
  })
})
