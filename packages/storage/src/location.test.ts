import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_SLOTS } from './format.js'
import { offsetOf, packLocation, slotOf } from './location.js'

describe('location', () => {
  it('round-trips every slot and offset, exactly, below 2^52', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_SLOTS - 1 }), fc.nat(0xffffffff), (slot, off) => {
        const loc = packLocation(slot, off)
        expect(Number.isSafeInteger(loc)).toBe(true)
        expect(loc).toBeLessThan(2 ** 52)
        expect(slotOf(loc)).toBe(slot)
        expect(offsetOf(loc)).toBe(off)
      }),
    )
  })

  it('handles the extremes', () => {
    const loc = packLocation(MAX_SLOTS - 1, 0xffffffff)
    expect(slotOf(loc)).toBe(MAX_SLOTS - 1)
    expect(offsetOf(loc)).toBe(0xffffffff)
    expect(slotOf(packLocation(0, 16))).toBe(0)
    expect(offsetOf(packLocation(0, 16))).toBe(16)
  })
})
