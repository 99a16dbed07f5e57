import { describe, expect, it } from 'vitest'
import { planFanout } from './fanout-tree.js'
import { domainOf } from './linear-model.js'
import { resolveOptions } from './options.js'

function checkRuns(plan: { fanout: number; runs: number[] }): void {
  let next = 0
  for (let r = 0; r < plan.runs.length; r += 2) {
    const start = plan.runs[r]!
    const len = plan.runs[r + 1]!
    expect(start).toBe(next)
    expect(len & (len - 1)).toBe(0)
    expect(start % len).toBe(0)
    next = start + len
  }
  expect(next).toBe(plan.fanout)
  expect(plan.runs.length).toBeGreaterThanOrEqual(4)
}

describe('fanout-tree', () => {
  const cfg = resolveOptions({ maxDataNodeSlots: 1024 })

  it('prefers one data node for few linear keys when allowed', () => {
    const keys = Float64Array.from({ length: 300 }, (_, i) => i)
    expect(planFanout(keys, 0, 300, domainOf(0, 299, 300), cfg, true)).toBeNull()
  })

  it('splits many keys into aligned power-of-two runs covering the fanout', () => {
    const keys = Float64Array.from({ length: 20000 }, (_, i) => i * 1.5)
    const plan = planFanout(keys, 0, keys.length, domainOf(0, keys[19999]!, 20000), cfg, true)
    expect(plan).not.toBeNull()
    checkRuns(plan!)
    expect(plan!.fanout).toBeGreaterThanOrEqual(20000 / cfg.maxBuildKeys)
  })

  it('merges the sparse part of skewed keys into shared runs', () => {
    const keys = Float64Array.from({ length: 20000 }, (_, i) => Math.exp(i / 1500))
    const plan = planFanout(
      keys,
      0,
      keys.length,
      domainOf(keys[0]!, keys[19999]!, 20000),
      cfg,
      false,
    )
    expect(plan).not.toBeNull()
    checkRuns(plan!)
    expect(plan!.runs.length / 2).toBeLessThan(plan!.fanout)
  })
})
