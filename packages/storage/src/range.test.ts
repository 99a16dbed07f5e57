import { describe, expect, it } from 'vitest'
import { checkRange, inRange } from './range.js'

describe('checkRange', () => {
  it('normalises and copies', () => {
    const r = { gte: 1, lt: 5, reverse: false, limit: 3 }
    const c = checkRange(r)
    expect(c).toEqual({ gte: 1, lt: 5, limit: 3 })
    expect(c).not.toBe(r)
    expect(checkRange(undefined)).toEqual({})
    expect(checkRange({ reverse: true, limit: Number.POSITIVE_INFINITY })).toEqual({
      reverse: true,
      limit: Number.POSITIVE_INFINITY,
    })
  })

  it('rejects malformed ranges with ERR_INVALID_ARGUMENT', () => {
    for (const r of [
      { gt: 1, gte: 1 },
      { lt: 1, lte: 1 },
      { gt: Number.NaN },
      { lte: '3' },
      { limit: -1 },
      { limit: 1.5 },
      { reverse: 1 },
      null,
      7,
    ]) {
      expect(() => checkRange(r as never)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      )
    }
  })

  it('rejects an unknown key with ERR_INVALID_ARGUMENT and a did-you-mean hint', () => {
    expect(() => checkRange({ gtee: 3 } as never)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message: expect.stringMatching(/unknown range 'gtee' \(did you mean 'gte'\?\)/),
      }),
    )
    expect(() => checkRange({ limt: 3 } as never)).toThrow(/did you mean 'limit'/)
    expect(() => checkRange({ start: 3, end: 5 } as never)).toThrow(/unknown range 'start'/)
  })

  it('tests membership', () => {
    expect(inRange({ gt: 1, lte: 3 }, 1)).toBe(false)
    expect(inRange({ gt: 1, lte: 3 }, 3)).toBe(true)
    expect(inRange({ gte: 1, lt: 3 }, 3)).toBe(false)
    expect(inRange({}, -1e300)).toBe(true)
  })
})
