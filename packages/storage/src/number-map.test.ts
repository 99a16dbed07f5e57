import { describe, expect, it } from 'vitest'
import { rng } from '../test/helpers.js'
import { NumberMap } from './number-map.js'

describe('NumberMap', () => {
  it('agrees with a Map through inserts, updates, deletes, growth and clear', () => {
    const random = rng(7)
    const int = (n: number) => Math.floor(random() * n)
    const m = new NumberMap(4)
    const model = new Map<number, number>()
    // Few distinct keys (long probe runs, many deletes) and odd ones (halves, huge, negative).
    const pool = [0, 1, -1, 0.5, 1e300, -1e300, 2 ** 53, Number.MIN_VALUE]
    for (let i = 0; i < 500; i++) pool.push(int(2 ** 31), int(1000) / 8)
    for (let step = 0; step < 50000; step++) {
      const key = pool[int(pool.length)]!
      const r = int(10)
      if (r < 5) {
        const value = int(1e9)
        expect(m.set(key, value)).toBe(model.get(key) ?? -1)
        model.set(key, value)
      } else if (r < 9) {
        expect(m.delete(key)).toBe(model.delete(key))
      } else {
        expect(m.get(key)).toBe(model.get(key) ?? -1)
      }
      if (step % 10000 === 9999) {
        for (const k of pool) expect(m.get(k)).toBe(model.get(k) ?? -1)
        expect(m.size).toBe(model.size)
        expect([...m.keysArray()].sort((a, b) => a - b)).toEqual(
          [...model.keys()].sort((a, b) => a - b),
        )
      }
    }
    m.clear()
    expect(m.size).toBe(0)
    for (const k of pool) expect(m.get(k)).toBe(-1)
  })
})
