import { mix32, Random, ScrambledZipf, Zipf } from '@alex/test-support/bench'
import { describe, expect, it } from 'vitest'

describe('Random', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new Random(42)
    const b = new Random(42)
    const c = new Random(43)
    const xs = Array.from({ length: 5 }, () => a.nextUint32())
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(xs)
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(xs)
  })

  it('draws uniformly in [0, 1) and [0, n)', () => {
    const r = new Random(1)
    const buckets = new Array(10).fill(0)
    for (let i = 0; i < 100_000; i++) {
      const x = r.next()
      expect(x >= 0 && x < 1).toBe(true)
      buckets[r.below(10)]++
    }
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(600)
  })

  it('draws standard normals', () => {
    const r = new Random(7)
    let sum = 0
    let sq = 0
    const n = 50_000
    for (let i = 0; i < n; i++) {
      const x = r.normal()
      sum += x
      sq += x * x
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.03)
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.05)
  })
})

describe('Zipf', () => {
  it('is skewed: rank 0 is the most frequent, ranks stay in range', () => {
    const n = 10_000
    const z = new Zipf(n)
    const r = new Random(3)
    const counts = new Map<number, number>()
    for (let i = 0; i < 100_000; i++) {
      const k = z.next(r)
      expect(k >= 0 && k < n).toBe(true)
      counts.set(k, (counts.get(k) ?? 0) + 1)
    }
    const top = counts.get(0) ?? 0
    for (const [k, c] of counts) if (k !== 0) expect(c).toBeLessThanOrEqual(top)
    // With theta 0.99 over 10k items, rank 0 takes roughly a tenth of all draws.
    expect(top / 100_000).toBeGreaterThan(0.05)
    expect(top / 100_000).toBeLessThan(0.2)
  })

  it('scrambles popular items across the key space', () => {
    const n = 1_000_000
    const z = new ScrambledZipf(n)
    const r = new Random(9)
    const hot = new Map<number, number>()
    for (let i = 0; i < 20_000; i++) {
      const k = z.next(r)
      hot.set(k, (hot.get(k) ?? 0) + 1)
    }
    const top = [...hot.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5)
    // The five hottest items are not clustered at the start of the key space.
    expect(top.some(([k]) => k > n / 10)).toBe(true)
    expect(mix32(1)).not.toBe(mix32(2))
  })
})
