import { describe, expect, it } from 'vitest'
import { PendingWrites } from './pending-writes.js'

describe('PendingWrites', () => {
  it('releases writes in order up to an LSN, across growth and wrap-around', () => {
    const q = new PendingWrites(4)
    let next = 1
    let released = 0
    for (let round = 0; round < 50; round++) {
      const burst = (round * 7) % 11
      for (let i = 0; i < burst; i++) {
        q.push(next * 10, next * 100, next, next % 2, next + 25)
        next++
      }
      expect(q.lastLsn).toBe(burst > 0 || q.size > 0 ? next - 1 : 0)
      const upTo = released + Math.ceil(q.size / 2)
      for (let i = q.peek(upTo); i >= 0; i = q.peek(upTo)) {
        released++
        expect(q.lsns[i]).toBe(released)
        expect(q.keys[i]).toBe(released * 10)
        expect(q.locations[i]).toBe(released * 100)
        expect(q.types[i]).toBe(released % 2)
        expect(q.sizes[i]).toBe(released + 25)
        q.shift()
      }
      expect(q.size).toBe(next - 1 - released)
    }
    q.clear()
    expect(q.size).toBe(0)
    expect(q.peek(Number.MAX_SAFE_INTEGER)).toBe(-1)
    expect(q.lastLsn).toBe(0)
  })
})
