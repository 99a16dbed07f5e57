import { describe, expect, it } from 'vitest'
import { LatencyHistogram } from './stats.js'

describe('LatencyHistogram', () => {
  it('is empty at first', () => {
    expect(new LatencyHistogram().summary()).toEqual({
      count: 0,
      mean: 0,
      p50: 0,
      p90: 0,
      p99: 0,
      max: 0,
    })
  })

  it('reports percentiles within the bucket precision', () => {
    const h = new LatencyHistogram()
    for (let v = 1; v <= 10_000; v++) h.record(v)
    const s = h.summary()
    expect(s.count).toBe(10_000)
    expect(s.mean).toBeCloseTo(5000.5, 5)
    expect(s.max).toBe(10_000)
    for (const [q, got] of [
      [0.5, s.p50],
      [0.9, s.p90],
      [0.99, s.p99],
    ] as const) {
      expect(Math.abs(got - q * 10_000) / (q * 10_000)).toBeLessThan(0.07)
    }
  })

  it('keeps small values exact and never reports above the maximum', () => {
    const h = new LatencyHistogram()
    for (let i = 0; i < 10; i++) h.record(3)
    h.record(-5)
    expect(h.percentile(0.5)).toBe(3)
    expect(h.percentile(0.01)).toBe(0)
    h.record(1e9)
    expect(h.percentile(1)).toBe(1e9)
  })
})
