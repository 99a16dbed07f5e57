/**
 * Hostile inputs: keys that defeat linear models or floating-point arithmetic. Each must keep
 * every invariant, finish quickly, and stay within bounded depth and memory.
 */
import { describe, expect, it } from 'vitest'
import { AlexIndex, type AlexIndexOptions, checkInvariants } from '../src/index.js'

function shuffled(keys: number[], seed = 1): number[] {
  const a = keys.slice()
  let s = seed
  for (let i = a.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648
    const j = s % (i + 1)
    const t = a[i]!
    a[i] = a[j]!
    a[j] = t
  }
  return a
}

function ulpsFrom(start: number, count: number): number[] {
  const out: number[] = []
  const buf = new Float64Array(1)
  const bits = new BigInt64Array(buf.buffer)
  buf[0] = start
  for (let i = 0; i < count; i++) {
    out.push(buf[0]!)
    bits[0] = bits[0]! + (buf[0]! >= 0 ? 1n : -1n)
  }
  return out
}

function exercise(keys: number[], options: AlexIndexOptions = {}, maxBytesPerKey = 64): AlexIndex {
  const started = performance.now()
  const ix = new AlexIndex(options)
  for (const [i, k] of keys.entries()) ix.set(k, i)
  checkInvariants(ix)
  const distinct = new Set(keys.map((k) => k + 0))
  expect(ix.size).toBe(distinct.size)
  for (let i = 0; i < keys.length; i += 97) expect(ix.has(keys[i]!)).toBe(true)
  const s = ix.stats()
  expect(s.height).toBeLessThanOrEqual(ix._cfg.maxDepth + 1)
  expect(s.bytesPerKey).toBeLessThan(maxBytesPerKey)
  // Bulk loading the same keys must be as sound.
  const bulk = AlexIndex.from(keys, keys, options)
  checkInvariants(bulk)
  expect([...bulk.keys()]).toEqual([...ix.keys()])
  // Deleting everything brings the structure back down.
  for (const k of shuffled([...distinct], 9)) expect(ix.delete(k)).toBe(true)
  checkInvariants(ix)
  expect(ix.size).toBe(0)
  expect(ix.stats().totalSlots).toBeLessThan(4096)
  expect(performance.now() - started).toBeLessThan(20_000)
  return ix
}

describe('hostile inputs', () => {
  it('consecutive ulps above 1 and around 1e300', () => {
    exercise(shuffled([...ulpsFrom(1, 30000), ...ulpsFrom(1e300, 10000)]))
  })

  it('consecutive subnormals and keys around zero', () => {
    const sub = ulpsFrom(0, 20000).map((k, i) => (i % 2 ? -k : k))
    exercise(shuffled([...sub, 0, -0, Number.MIN_VALUE, 2.2250738585072014e-308]), {
      maxDataNodeSlots: 256,
    })
  })

  it('keys at both ends of the double range', () => {
    const top = ulpsFrom(Number.MAX_VALUE, 1).concat(
      ulpsFrom(Number.MAX_VALUE, 5000).map((_, i) => Number.MAX_VALUE - i * 2 ** 971),
    )
    exercise(shuffled([...top, ...top.map((k) => -k), 0, 1, -1]), { maxDataNodeSlots: 128 })
  })

  it('exponentially spaced keys over every binade, then a dense block', () => {
    const keys: number[] = []
    for (let e = -1074; e <= 1023; e++) keys.push(2 ** e, -(2 ** e))
    for (let i = 0; i < 20000; i++) keys.push(1000 + i)
    exercise(shuffled(keys), { maxDataNodeSlots: 64, maxFanout: 16 })
  })

  it('dense clusters far apart', () => {
    const keys = [1e-300, 1, 1e150, -1e300].flatMap((c) => ulpsFrom(c, 8000))
    exercise(shuffled(keys), { maxDataNodeSlots: 128 })
  })

  it('keys that leave the domain on every insert, alternating sides', () => {
    const keys: number[] = []
    for (let e = 0; e < 1000; e++) keys.push(2 ** e, -(2 ** e) - 0.5)
    exercise(keys, { maxFanout: 64 })
  })

  it('ascending and descending runs at both ends', () => {
    const keys: number[] = []
    for (let i = 0; i < 60000; i++) keys.push(i % 2 ? 1e6 + i : -i)
    exercise(keys, {}, 40)
  })

  it('a split can always make progress: a depth cap turns splits into growth', () => {
    const ix = exercise(shuffled(ulpsFrom(1, 20000)), {
      maxDataNodeSlots: 32,
      maxFanout: 2,
      maxDepth: 3,
    })
    expect(ix._cfg.maxDepth).toBe(3)
  })
})
