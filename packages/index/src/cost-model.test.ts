import { describe, expect, it } from 'vitest'
import { bitLength, CATASTROPHIC_COST, expectedSearchCost, isCatastrophic } from './cost-model.js'

describe('cost-model', () => {
  it('bitLength counts search iterations for an error', () => {
    expect(bitLength(0)).toBe(0)
    expect(bitLength(1)).toBe(1)
    expect(bitLength(7)).toBe(3)
    expect(bitLength(8)).toBe(4)
  })

  it('expects almost no search for linear keys and more for skewed keys', () => {
    const linear = Float64Array.from({ length: 4096 }, (_, i) => i * 3)
    const skewed = Float64Array.from({ length: 4096 }, (_, i) => Math.exp(i / 200))
    const a = expectedSearchCost(linear, 0, linear.length, 1, 0.7)
    const b = expectedSearchCost(skewed, 0, skewed.length, 1, 0.7)
    expect(a).toBeLessThan(1.5)
    expect(b).toBeGreaterThan(a + 3)
    // Sampling every 16th key estimates the same order of cost.
    expect(expectedSearchCost(skewed, 0, skewed.length, 16, 0.7)).toBeGreaterThan(a + 3)
  })

  it('flags models that fit badly or drifted far above expectation', () => {
    expect(isCatastrophic(CATASTROPHIC_COST + 1, 0, 0, 0, 0)).toBe(true)
    expect(isCatastrophic(1, 0, 10, 1000, 0)).toBe(false) // too few inserts to trust
    expect(isCatastrophic(1, 0, 1000, 1200, 100)).toBe(false)
    expect(isCatastrophic(1, 0, 1000, 6000, 0)).toBe(true)
  })
})
