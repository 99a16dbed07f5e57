import { describe, expect, it } from 'vitest'
import { DataNode } from './data-node.js'
import { domainOf } from './linear-model.js'
import {
  type AlexNode,
  doubleFanout,
  growDomain,
  makeModelNode,
  routeRaw,
  routeSlot,
  runOf,
} from './model-node.js'

const leaf = () => new DataNode(8, 0.8)

function filled(fanout: number, min: number, max: number) {
  const m = makeModelNode(fanout, domainOf(min, max, 100))
  for (let i = 0; i < fanout; i++) m.children[i] = leaf()
  return m
}

const samples = [-1e308, -5, 0, 1e-300, 3, 3.5, 7, 99.999, 100, 1e9, 1e308]

describe('model-node', () => {
  it('routes monotonically and clamps out-of-domain keys', () => {
    const m = filled(8, 0, 100)
    let prev = -1
    for (const k of samples) {
      const s = routeSlot(m, k)
      expect(s).toBeGreaterThanOrEqual(prev)
      expect(s).toBeGreaterThanOrEqual(0)
      expect(s).toBeLessThan(8)
      prev = s
    }
    expect(routeRaw(m, -5)).toBeLessThan(0)
    expect(routeRaw(m, 1e9)).toBeGreaterThanOrEqual(8)
    expect(routeRaw(m, 100)).toBe(7)
  })

  it('doubling keeps every key on its child', () => {
    const m = filled(4, 0, 100)
    m.children[1] = m.children[0]!
    const before = samples.map((k) => m.children[routeSlot(m, k)])
    doubleFanout(m)
    expect(m.children).toHaveLength(8)
    expect(samples.map((k) => m.children[routeSlot(m, k)])).toEqual(before)
    const run = { start: 0, len: 0 }
    runOf(m, 3, run)
    expect(run).toEqual({ start: 0, len: 4 })
  })

  it('growing the domain right or left keeps existing keys on their children', () => {
    for (const left of [false, true]) {
      const m = filled(4, 0, 100)
      const inDomain = [0, 3, 50, 99.9]
      const before = inDomain.map((k) => m.children[routeSlot(m, k)])
      const made: AlexNode[] = growDomain(m, 2, left, () => leaf())
      expect(made).toHaveLength(2)
      expect(m.children).toHaveLength(16)
      expect(inDomain.map((k) => m.children[routeSlot(m, k)])).toEqual(before)
      // New runs are aligned powers of two: sizes 4 and 8.
      const run = { start: 0, len: 0 }
      runOf(m, left ? 0 : 15, run)
      expect(run.len).toBe(8)
      const outside = left ? -250 : 350
      expect(routeRaw(m, outside)).toBeGreaterThanOrEqual(0)
      expect(routeRaw(m, outside)).toBeLessThan(16)
      expect(made).toContain(m.children[routeSlot(m, outside)])
    }
  })
})
