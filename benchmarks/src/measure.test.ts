import { describe, expect, it } from 'vitest'
import { LatencyRecorder, median, spread } from './measure.js'

describe('measure', () => {
  it('computes median and spread', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(Number.isNaN(median([]))).toBe(true)
    expect(spread([10])).toBe(0)
    expect(spread([9, 10, 11])).toBeCloseTo(0.2)
  })

  it('records latencies in nanoseconds with percentiles', () => {
    const r = new LatencyRecorder()
    for (let i = 1; i <= 1000; i++) r.recordMs(i / 1e3) // 1 us .. 1 ms
    const s = r.summary()
    expect(s.samples).toBe(1000)
    expect(s.p50).toBeGreaterThan(490_000)
    expect(s.p50).toBeLessThan(510_000)
    expect(s.p99).toBeGreaterThan(980_000)
    expect(s.max).toBeGreaterThanOrEqual(999_000)
    r.recordMs(0)
    expect(r.summary().samples).toBe(1001)
  })
})
