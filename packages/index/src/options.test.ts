import { describe, expect, it } from 'vitest'
import { DEFAULT_OPTIONS, resolveOptions } from './options.js'

describe('options', () => {
  it('fills defaults and derives maxBuildKeys', () => {
    const c = resolveOptions()
    expect(c.maxDataNodeSlots).toBe(DEFAULT_OPTIONS.maxDataNodeSlots)
    expect(c.maxBuildKeys).toBe(Math.floor(c.maxDataNodeSlots * c.initialDensity))
  })

  it('rejects out-of-bounds options with ERR_INVALID_ARGUMENT', () => {
    const bad: Record<string, unknown>[] = [
      { maxDataNodeSlots: 8 },
      { maxDataNodeSlots: 100.5 },
      { maxFanout: 3 },
      { maxFanout: 1 },
      { maxDensity: 1 },
      { initialDensity: 0.9, maxDensity: 0.8 },
      { expandDensity: 0.8 },
      { minDensity: 0.5 },
      { maxDepth: 1 },
      { maxDepth: Number.NaN },
      { maxFanout: '16' },
    ]
    for (const o of bad) {
      expect(() => resolveOptions(o as never)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      )
    }
  })

  it('rejects an unknown key with ERR_INVALID_ARGUMENT and a did-you-mean hint', () => {
    expect(() => resolveOptions({ maxDensty: 0.8 } as never)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message: expect.stringMatching(/'maxDensty' is unknown \(did you mean 'maxDensity'\?\)/),
      }),
    )
    expect(() => resolveOptions({ maxFanOut: 16 } as never)).toThrow(/did you mean 'maxFanout'/)
    expect(() => resolveOptions({ qqqqqqqqqqqqqqqqqqq: 1 } as never)).toThrow(
      expect.objectContaining({ message: expect.not.stringMatching(/did you mean/) }),
    )
  })
})
