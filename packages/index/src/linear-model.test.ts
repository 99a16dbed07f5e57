import { describe, expect, it } from 'vitest'
import { domainOf, fitRanks, newFit, scaleFor, spanOf } from './linear-model.js'

describe('linear-model', () => {
  it('spanOf saturates instead of overflowing', () => {
    expect(spanOf(-Number.MAX_VALUE, Number.MAX_VALUE)).toBe(Number.MAX_VALUE)
    expect(spanOf(1, 3)).toBe(2)
  })

  it('scaleFor maps widths into [1, 2) and stays finite at the extremes', () => {
    for (const w of [1e-300, 3, 1024, 1e300, Number.MIN_VALUE, Number.MAX_VALUE]) {
      const s = scaleFor(w)
      expect(Number.isFinite(s) && s > 0).toBe(true)
      expect(Number.isInteger(Math.log2(s))).toBe(true)
      if (w > 1e-300 && w < 1e300) {
        expect(w * s).toBeGreaterThanOrEqual(1)
        expect(w * s).toBeLessThan(2)
      }
    }
    expect(scaleFor(0)).toBe(1)
  })

  it('domainOf covers its keys with room for the largest, even across the whole double range', () => {
    const cases: [number, number, number][] = [
      [0, 100, 10],
      [5, 5, 1],
      [-Number.MAX_VALUE, Number.MAX_VALUE, 2],
      [Number.MIN_VALUE, 3 * Number.MIN_VALUE, 3],
      [1, 1 + 4 * Number.EPSILON, 5],
      [-1e308, 1e308, 1000],
    ]
    for (const [min, max, count] of cases) {
      const d = domainOf(min, max, count)
      expect(Number.isFinite(d.span) && d.span > 0).toBe(true)
      const xMax = max * d.pre - d.base
      expect(min * d.pre - d.base).toBe(0)
      expect(xMax).toBeLessThan(d.span)
    }
  })

  it('fitRanks fits exactly linear keys and keeps a positive finite slope on hostile keys', () => {
    const keys = Float64Array.from({ length: 100 }, (_, i) => 10 + 3 * i)
    const f = newFit()
    fitRanks(keys, 0, 100, 1, f)
    for (let i = 0; i < 100; i += 7) {
      const pred = f.icpt + (keys[i]! - f.base) * f.scale * f.slope
      expect(pred).toBeCloseTo(i, 6)
    }
    const hostile = [
      Float64Array.of(-Number.MAX_VALUE, 0, Number.MAX_VALUE),
      Float64Array.from({ length: 50 }, (_, i) => 1 + i * Number.EPSILON),
      Float64Array.from({ length: 50 }, (_, i) => i * Number.MIN_VALUE),
      Float64Array.of(0, 1e-300, 1e-200, 1e300),
    ]
    for (const h of hostile) {
      fitRanks(h, 0, h.length, 1, f)
      expect(Number.isFinite(f.slope) && f.slope >= 0).toBe(true)
      expect(Number.isFinite(f.icpt)).toBe(true)
    }
  })
})
