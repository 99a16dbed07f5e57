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
})
