import { describe, expect, it } from 'vitest'
import { isSet, lowestBit, nextClear, nextSet, popcount, prevClear, prevSet } from './bitmap.js'

function naive(bits: boolean[]) {
  return {
    nextSet: (from: number) => {
      for (let i = Math.max(0, from); i < bits.length; i++) if (bits[i]) return i
      return bits.length
    },
    prevSet: (from: number) => {
      for (let i = Math.min(from, bits.length - 1); i >= 0; i--) if (bits[i]) return i
      return -1
    },
    nextClear: (from: number) => {
      for (let i = Math.max(0, from); i < bits.length; i++) if (!bits[i]) return i
      return bits.length
    },
    prevClear: (from: number, min: number) => {
      for (let i = Math.min(from, bits.length - 1); i >= Math.max(0, min); i--)
        if (!bits[i]) return i
      return -1
    },
  }
}

describe('bitmap', () => {
  it('lowestBit and popcount handle bit 31 and full words', () => {
    expect(lowestBit(1 << 31)).toBe(31)
    expect(lowestBit(0b1000)).toBe(3)
    expect(popcount(-1)).toBe(32)
    expect(popcount(0)).toBe(0)
    expect(popcount(0b1011)).toBe(3)
  })

  it('scans agree with a naive bit list for random bitmaps and capacities', () => {
    let seed = 7
    const rnd = () => {
      seed = (seed * 48271) % 2147483647
      return seed / 2147483647
    }
    for (const cap of [1, 8, 31, 32, 33, 64, 100, 257]) {
      for (const density of [0, 0.1, 0.5, 0.9, 1]) {
        const bits = Array.from({ length: cap }, () => rnd() < density)
        const bm = new Uint32Array((cap + 31) >>> 5)
        bits.forEach((b, i) => {
          if (b) bm[i >>> 5]! |= 1 << (i & 31)
        })
        const ref = naive(bits)
        for (let from = -1; from <= cap; from++) {
          if (from >= 0 && from < cap) expect(isSet(bm, from)).toBe(bits[from])
          if (from >= 0) expect(nextSet(bm, from, cap)).toBe(ref.nextSet(from))
          expect(prevSet(bm, Math.min(from, cap - 1))).toBe(ref.prevSet(Math.min(from, cap - 1)))
          if (from >= 0) expect(nextClear(bm, from, cap)).toBe(ref.nextClear(from))
          const min = Math.max(0, from - 40)
          expect(prevClear(bm, Math.min(from, cap - 1), min)).toBe(
            ref.prevClear(Math.min(from, cap - 1), min),
          )
        }
      }
    }
  })
})
