import { describe, expect, it } from 'vitest'
import { DEFAULTS, resolveOptions } from './options.js'

describe('resolveOptions', () => {
  it('fills in the defaults', () => {
    const o = resolveOptions(undefined)
    expect(o).toMatchObject(DEFAULTS)
    expect(o.fs).toBeUndefined()
    expect(o.walSegmentBytes).toBeUndefined()
  })

  it('keeps valid values', () => {
    const o = resolveOptions({
      sync: 'none',
      cacheBytes: 0,
      compactionThreshold: 1,
      readOnly: true,
    })
    expect(o).toMatchObject({ sync: 'none', cacheBytes: 0, compactionThreshold: 1, readOnly: true })
  })

  it('rejects bad values with ERR_INVALID_ARGUMENT', () => {
    const cases: unknown[] = [
      { sync: 'sometimes' },
      { recovery: 'whatever' },
      { cacheBytes: -1 },
      { cacheBytes: 1.5 },
      { maxValueBytes: 2 ** 27 },
      { segmentBytes: 2 ** 27 + 1 },
      { segmentBytes: 100 },
      { compactionThreshold: 0 },
      { compactionThreshold: 2 },
      { checkpointRecords: 0 },
      { readOnly: 'yes' },
      { blockingSync: 1 },
      { walSegmentBytes: 1 },
      'nope',
    ]
    for (const c of cases) {
      expect(() => resolveOptions(c as never)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      )
    }
  })

  it('rejects an unknown key with ERR_INVALID_ARGUMENT and a did-you-mean hint', () => {
    expect(() => resolveOptions({ syncMode: 'none' } as never)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message: expect.stringMatching(/unknown option 'syncMode' \(did you mean 'sync'\?\)/),
      }),
    )
    expect(() => resolveOptions({ cachebytes: 1 } as never)).toThrow(/did you mean 'cacheBytes'/)
    expect(() => resolveOptions({ readonly: true } as never)).toThrow(/did you mean 'readOnly'/)
    // Far from every option: no hint, but the list of known ones.
    const err = (() => {
      try {
        resolveOptions({ zzzzzzzzzzzz: 1 } as never)
      } catch (e) {
        return e as Error
      }
    })()
    expect(err).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    expect(err?.message).not.toMatch(/did you mean/)
    expect(err?.message).toMatch(/known: sync, /)
    // An unknown key is refused even when its value is undefined.
    expect(() => resolveOptions({ syncMode: undefined } as never)).toThrow(/unknown option/)
  })
})
