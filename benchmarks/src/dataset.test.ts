import { describe, expect, it } from 'vitest'
import { Dataset } from './dataset.js'

const shape = { loaded: 5000, randomInserts: 100, sequentialInserts: 50 }

describe('Dataset', () => {
  it('is identical for the same seed and distinct across seeds', () => {
    const a = new Dataset(1, 'uniform', shape, 64)
    const b = new Dataset(1, 'uniform', shape, 64)
    const c = new Dataset(2, 'uniform', shape, 64)
    expect(Buffer.from(a.keys.buffer).equals(Buffer.from(b.keys.buffer))).toBe(true)
    expect(a.value(17, 3).equals(b.value(17, 3))).toBe(true)
    expect(Buffer.from(a.keys.buffer).equals(Buffer.from(c.keys.buffer))).toBe(false)
  })

  for (const dist of ['uniform', 'lognormal', 'sequential'] as const) {
    it(`has distinct finite ${dist} keys, with ascending inserts above all others`, () => {
      const d = new Dataset(5, dist, shape, 32)
      const keys = [...d.keys]
      expect(new Set(keys).size).toBe(keys.length)
      for (const k of keys) expect(Number.isFinite(k) && Number.isInteger(k)).toBe(true)
      const before = Math.max(...keys.slice(0, d.firstSequentialInsert))
      const seq = keys.slice(d.firstSequentialInsert)
      expect(seq[0]).toBeGreaterThan(before)
      for (let i = 1; i < seq.length; i++) expect(seq[i]!).toBeGreaterThan(seq[i - 1]!)
    })
  }

  it('gives each (key, version) its own value and checks bytes exactly', () => {
    const d = new Dataset(9, 'uniform', shape, 128)
    const v1 = d.value(10, 1)
    const v2 = d.value(10, 2)
    expect(v1.length).toBe(128)
    expect(v1.equals(v2)).toBe(false)
    expect(d.matches(v1, 10, 1)).toBe(true)
    expect(d.matches(v1, 10, 2)).toBe(false)
    expect(d.matches(v1.subarray(0, 127), 10, 1)).toBe(false)
    const flipped = Uint8Array.from(v1)
    flipped[127] = flipped[127]! ^ 1
    expect(d.matches(flipped, 10, 1)).toBe(false)
  })
})
