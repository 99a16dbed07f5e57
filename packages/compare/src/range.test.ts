import { describe, expect, it } from 'vitest'
import { aboveLow, belowHigh, fromBounds, isEmptyRange, toBounds } from './range.js'

describe('toBounds', () => {
  it('normalises bounds, order and limit', () => {
    expect(toBounds(undefined)).toEqual({
      low: undefined,
      lowInclusive: false,
      high: undefined,
      highInclusive: false,
      reverse: false,
      limit: Number.POSITIVE_INFINITY,
    })
    const b = toBounds({ gte: -0, lt: 10, reverse: true, limit: 3 })
    expect(Object.is(b.low, -0)).toBe(false)
    expect(b).toMatchObject({ low: 0, lowInclusive: true, high: 10, highInclusive: false })
    expect(b).toMatchObject({ reverse: true, limit: 3 })
    // The index's rules (one normaliser): -1 and Infinity mean no limit; infinite bounds.
    expect(toBounds({ limit: -1 }).limit).toBe(Number.POSITIVE_INFINITY)
    expect(toBounds({ gte: Number.NEGATIVE_INFINITY, lte: Number.POSITIVE_INFINITY })).toEqual(
      toBounds(undefined),
    )
    expect(isEmptyRange(toBounds({ gt: Number.POSITIVE_INFINITY }))).toBe(true)
    expect(isEmptyRange(toBounds({ lt: Number.NEGATIVE_INFINITY }))).toBe(true)
  })

  it('rejects contradictory or malformed options with typed errors', () => {
    const range = expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' })
    expect(() => toBounds({ gt: 1, gte: 1 })).toThrow(range)
    expect(() => toBounds({ lt: 1, lte: 1 })).toThrow(range)
    expect(() => toBounds({ limit: -2 })).toThrow(range)
    expect(() => toBounds({ limit: 2.5 })).toThrow(range)
    expect(() => toBounds({ limit: Number.NaN })).toThrow(range)
    expect(() => toBounds({ gtee: 1 } as never)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message: expect.stringMatching(/did you mean 'gte'/),
      }),
    )
    expect(() => toBounds({ gt: Number.NaN })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_KEY' }),
    )
  })

  it('knows empty ranges and bound membership', () => {
    expect(isEmptyRange(toBounds({ gt: 5, lt: 5 }))).toBe(true)
    expect(isEmptyRange(toBounds({ gte: 5, lte: 5 }))).toBe(false)
    expect(isEmptyRange(toBounds({ gte: 6, lte: 5 }))).toBe(true)
    expect(isEmptyRange(toBounds({ limit: 0 }))).toBe(true)
    const b = toBounds({ gt: 1, lte: 3 })
    expect([1, 2, 3, 4].map((k) => aboveLow(b, k) && belowHigh(b, k))).toEqual([
      false,
      true,
      true,
      false,
    ])
  })

  it('converts bounds back to options', () => {
    expect(fromBounds(toBounds({ gt: -0, lte: 5, limit: 2 }))).toEqual({
      reverse: false,
      gt: 0,
      lte: 5,
      limit: 2,
    })
    expect(fromBounds(toBounds({ reverse: true }))).toEqual({ reverse: true })
  })
})
