import { describe, expect, it } from 'vitest'
import { aboveLow, belowHigh, normalizeRange } from './range.js'

describe('range', () => {
  it('defaults to the whole key space, forward, unlimited', () => {
    expect(normalizeRange(undefined)).toEqual({
      lo: Number.NEGATIVE_INFINITY,
      loInclusive: true,
      hi: Number.POSITIVE_INFINITY,
      hiInclusive: true,
      reverse: false,
      limit: Number.POSITIVE_INFINITY,
    })
  })

  it('maps bounds, -0 to 0, and -1 limit to unlimited', () => {
    const r = normalizeRange({ gt: -0, lte: 5, reverse: true, limit: -1 })
    expect(Object.is(r.lo, 0)).toBe(true)
    expect(r.loInclusive).toBe(false)
    expect(r.hi).toBe(5)
    expect(r.reverse).toBe(true)
    expect(r.limit).toBe(Number.POSITIVE_INFINITY)
    expect(aboveLow(r, 0)).toBe(false)
    expect(aboveLow(r, 1)).toBe(true)
    expect(belowHigh(r, 5)).toBe(true)
    expect(belowHigh(normalizeRange({ lt: 5 }), 5)).toBe(false)
  })

  it('rejects an unknown key with ERR_INVALID_ARGUMENT and a did-you-mean hint', () => {
    expect(() => normalizeRange({ gtee: 1 } as never)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message: expect.stringMatching(/unknown range option 'gtee' \(did you mean 'gte'\?\)/),
      }),
    )
    expect(() => normalizeRange({ revers: true } as never)).toThrow(/did you mean 'reverse'/)
    expect(() => normalizeRange({ start: 1 } as never)).toThrow(/unknown range option 'start'/)
    // Known keys with undefined values are fine.
    expect(normalizeRange({ gt: undefined, limit: undefined }).limit).toBe(Number.POSITIVE_INFINITY)
  })

  it('rejects malformed ranges with stable codes', () => {
    expect(() => normalizeRange({ gt: 1, gte: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
    expect(() => normalizeRange({ lt: 1, lte: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
    expect(() => normalizeRange({ limit: 1.5 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
    expect(() => normalizeRange({ limit: -2 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
    expect(() => normalizeRange({ reverse: 1 as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
    expect(() => normalizeRange({ gte: Number.NaN })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_KEY' }),
    )
    expect(() => normalizeRange({ lt: '3' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_KEY' }),
    )
    expect(() => normalizeRange(5 as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
  })
})
