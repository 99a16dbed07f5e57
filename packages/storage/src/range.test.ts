import { describe, expect, it } from 'vitest'
import { checkRange, rangeAfter } from './range.js'

describe('checkRange', () => {
  it('normalises and copies (the index rules: -1 and Infinity mean no limit)', () => {
    const r = { gte: 1, lt: 5, reverse: false, limit: 3 }
    const c = checkRange(r)
    expect(c).toEqual({
      lo: 1,
      loInclusive: true,
      hi: 5,
      hiInclusive: false,
      reverse: false,
      limit: 3,
    })
    expect(c).not.toBe(r)
    const all = { lo: -Infinity, loInclusive: true, hi: Infinity, hiInclusive: true }
    expect(checkRange(undefined)).toEqual({ ...all, reverse: false, limit: Infinity })
    expect(checkRange({ reverse: true, limit: Number.POSITIVE_INFINITY })).toEqual({
      ...all,
      reverse: true,
      limit: Number.POSITIVE_INFINITY,
    })
    expect(checkRange({ limit: -1 }).limit).toBe(Number.POSITIVE_INFINITY)
  })

  it('narrows a range to the part after a cursor, in its direction', () => {
    const r = checkRange({ gte: 1, lte: 9 })
    expect(rangeAfter(r, undefined, 4)).toEqual({ ...r, limit: 4 })
    expect(rangeAfter(r, 5, 4)).toEqual({ ...r, lo: 5, loInclusive: false, limit: 4 })
    const down = checkRange({ gte: 1, lte: 9, reverse: true })
    expect(rangeAfter(down, 5, 4)).toEqual({ ...down, hi: 5, hiInclusive: false, limit: 4 })
  })

  it('rejects malformed ranges with ERR_INVALID_ARGUMENT', () => {
    for (const r of [
      { gt: 1, gte: 1 },
      { lt: 1, lte: 1 },
      { gt: Number.NaN },
      { lte: '3' },
      { limit: -2 },
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
})
