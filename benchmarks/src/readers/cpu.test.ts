import { describe, expect, it } from 'vitest'
import { machineTicks, otherCores, ownCpuMs } from './cpu.js'

describe('otherCores', () => {
  it('is the busy share of the machine times its cores, less what our processes used', () => {
    // 2 cores, 200 ticks elapsed of which 150 busy: 1.5 cores busy; ours used 1.2.
    const from = { busy: 1000, total: 5000 }
    const to = { busy: 1150, total: 5200 }
    expect(otherCores(from, to, 1.2, 2)).toBeCloseTo(0.3, 9)
    // Never negative (our own figures are sampled over slightly different spans).
    expect(otherCores(from, to, 1.9, 2)).toBe(0)
    expect(otherCores(from, from, 0, 2)).toBe(0)
  })

  it('reads the machine and this process', () => {
    const t = machineTicks()
    if (t !== undefined) expect(t.total).toBeGreaterThanOrEqual(t.busy)
    expect(ownCpuMs()).toBeGreaterThan(0)
  })
})
