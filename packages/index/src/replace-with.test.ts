import { describe, expect, it } from 'vitest'
import { AlexIndex } from './alex-index.js'
import { checkInvariants } from './invariants.js'

describe('AlexIndex.replaceWith', () => {
  it('takes over the other index whole and leaves it empty', () => {
    const a = AlexIndex.from([1, 2, 3], [10, 20, 30])
    for (let i = 0; i < 5000; i++) a.get(2) // the lookup tables get built
    const keys = new Float64Array(10_000)
    const payloads = new Float64Array(10_000)
    for (let i = 0; i < keys.length; i++) {
      keys[i] = i * 3 + 0.5
      payloads[i] = i
    }
    const b = AlexIndex.from(keys, payloads)
    expect(a.replaceWith(b)).toBe(a)
    expect(a.size).toBe(10_000)
    expect(b.size).toBe(0)
    expect(a.get(2)).toBeUndefined()
    for (let i = 0; i < keys.length; i += 97) expect(a.get(keys[i]!)).toBe(i)
    expect([...a.keys({ limit: 3 })]).toEqual([0.5, 3.5, 6.5])
    checkInvariants(a)
    // Both stay usable on their own.
    a.set(1, 1)
    b.set(7, 7)
    expect(a.size).toBe(10_001)
    expect([...b.entries()]).toEqual([[7, 7]])
    checkInvariants(a)
    checkInvariants(b)
    expect(a.replaceWith(a)).toBe(a)
    expect(a.size).toBe(10_001)
  })
})
