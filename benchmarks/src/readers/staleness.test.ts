import { describe, expect, it } from 'vitest'
import { visibilityDelays } from './staleness.js'

describe('visibilityDelays', () => {
  it('gives each put the first stamp whose mark reaches its own', () => {
    // Puts with marks 10, 11, 12 acknowledged at 100, 101, 102 ms; the reader showed 9 at 99,
    // 11 at 101.5 (so 10 and 11 together) and 12 at 105.
    const acks = [10, 100, 11, 101, 12, 102]
    const stamps = [9, 99, 11, 101.5, 12, 105]
    const d = visibilityDelays(acks, stamps, 0, 1000, 0)
    expect(d.delays).toEqual([1.5, 0.5, 3])
    expect(d.unseen).toBe(0)
  })

  it('counts a put shown before its acknowledgement as 0, not negative', () => {
    const d = visibilityDelays([5, 50], [5, 49.9], 0, 100, 0)
    expect(d.delays).toEqual([0])
  })

  it('skips marks the writer never acknowledged (gaps) and stamps that jump past several puts', () => {
    const acks = [3, 10, 7, 20]
    const stamps = [1, 0, 8, 25]
    expect(visibilityDelays(acks, stamps, 0, 100, 0).delays).toEqual([15, 5])
  })

  it('leaves out puts outside the window and in its tail; an unseen put counts to the end', () => {
    const acks = [1, 5, 2, 50, 3, 60, 4, 95]
    const stamps = [1, 6, 2, 51]
    const d = visibilityDelays(acks, stamps, 10, 100, 10)
    // mark 1 is before the window, mark 4 in its last 10 ms; mark 3 was never shown.
    expect(d.delays).toEqual([1, 40])
    expect(d.unseen).toBe(1)
  })

  it('handles no stamps and no acks', () => {
    expect(visibilityDelays([], [1, 1], 0, 10, 0)).toEqual({ delays: [], unseen: 0 })
    expect(visibilityDelays([1, 2], [], 0, 10, 0)).toEqual({ delays: [8], unseen: 1 })
  })
})
