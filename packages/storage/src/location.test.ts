import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LOCATION_LONG, MAX_SEGMENT_BYTES, MAX_SLOTS } from './format.js'
import { knownRecordSize, lengthFieldOf, offsetOf, packLocation, slotOf } from './location.js'

describe('location', () => {
  it('round-trips every slot, offset and length, exactly, below 2^53', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX_SLOTS - 1 }),
        fc.integer({ min: 0, max: MAX_SEGMENT_BYTES - 1 }),
        fc.nat(1 << 30),
        (slot, off, len) => {
          const loc = packLocation(slot, off, len)
          expect(Number.isSafeInteger(loc)).toBe(true)
          expect(slotOf(loc)).toBe(slot)
          expect(offsetOf(loc)).toBe(off)
          expect(lengthFieldOf(loc)).toBe(Math.min(len, LOCATION_LONG))
          expect(knownRecordSize(loc)).toBe(len < LOCATION_LONG ? 25 + len : -1)
        },
      ),
    )
  })

  it('handles the extremes', () => {
    const loc = packLocation(MAX_SLOTS - 1, MAX_SEGMENT_BYTES - 1, 2046)
    expect(loc).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER)
    expect(slotOf(loc)).toBe(MAX_SLOTS - 1)
    expect(offsetOf(loc)).toBe(MAX_SEGMENT_BYTES - 1)
    expect(lengthFieldOf(loc)).toBe(2046)
    expect(lengthFieldOf(packLocation(3, 16, 2047))).toBe(LOCATION_LONG)
    expect(packLocation(0, 16, 0)).toBe(16 * 2048)
    expect(slotOf(packLocation(0, 0, 0))).toBe(0)
  })
})
