/**
 * The hard key sets of @alex/test-support (issue #14): the generators' promises (determinism,
 * count, distinctness, exactness, ordering), and each set run through AlexIndex against the
 * sorted-array model at small sizes with small node limits, so the structure restructures
 * constantly on the shapes that are hard for a learned index.
 */
import {
  hilbert24,
  KEY_SET_ORDER,
  KEY_SETS,
  type KeySetName,
  makeKeySet,
  Random,
  shuffle,
} from '@alex/test-support/bench'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AlexIndex, type AlexIndexOptions, checkInvariants } from '../src/index.js'
import { SortedArrayModel } from './model.js'

describe('key sets', () => {
  for (const name of KEY_SETS) {
    it(`${name}: n distinct finite keys, the same for the same seed, in its order`, () => {
      const n = 20_000
      const a = makeKeySet(name, n, 3)
      expect(a.length).toBe(n)
      expect(makeKeySet(name, n, 3)).toEqual(a)
      expect(makeKeySet(name, n, 4)).not.toEqual(a)
      const sorted = Float64Array.from(a).sort()
      for (let i = 0; i < n; i++) {
        expect(Number.isFinite(sorted[i]!)).toBe(true)
        if (i > 0 && !(sorted[i]! > sorted[i - 1]!))
          expect(sorted[i]).toBeGreaterThan(sorted[i - 1]!)
      }
      // Below 2^52: `max + 1 + j` above every key stays exact and distinct (bench datasets).
      expect(sorted[n - 1]!).toBeLessThan(2 ** 53 - 2 * n)
      if (name !== 'adversarial')
        for (const k of a) if (!Number.isInteger(k)) expect(k).toBe('an integer')
      const ascending = a.every((k, i) => i === 0 || k > a[i - 1]!)
      expect(ascending).toBe(KEY_SET_ORDER[name] === 'ascending')
    })
  }

  it('clustered: dense runs between large gaps (most gaps small, a few huge)', () => {
    const s = Float64Array.from(makeKeySet('clustered', 50_000, 1)).sort()
    const gaps = new Float64Array(s.length - 1)
    for (let i = 1; i < s.length; i++) gaps[i - 1] = s[i]! - s[i - 1]!
    gaps.sort()
    const median = gaps[gaps.length >> 1]!
    const max = gaps[gaps.length - 1]!
    expect(max / median).toBeGreaterThan(1e6)
    for (const k of s) expect(k % 4).toBe(2) // the S2-like trailing marker bit
  })

  it('gapped: runs of consecutive ids and jumps', () => {
    const s = Float64Array.from(makeKeySet('gapped', 50_000, 1)).sort()
    let ones = 0
    let jumps = 0
    for (let i = 1; i < s.length; i++) {
      const g = s[i]! - s[i - 1]!
      if (g === 1) ones++
      if (g >= 1e6) jumps++
    }
    expect(ones).toBeGreaterThan(s.length / 3)
    expect(jumps).toBeGreaterThan(10)
  })

  it('adversarial: exponential part spans hundreds of binades, then one crowded range', () => {
    const n = 40_000
    const a = makeKeySet('adversarial', n, 1)
    const neg = a.filter((k) => k < 0)
    expect(neg.length).toBe(n / 4)
    expect(Math.log2(-Math.min(...neg)) - Math.log2(-Math.max(...neg))).toBeGreaterThan(1900)
    const tail = a.subarray(n / 2)
    for (const k of tail) {
      expect(k).toBeGreaterThan(1)
      expect(k).toBeLessThan(2)
    }
    // Alternately right and left of the middle, each further out than the last on its side.
    expect(tail[0]!).toBeGreaterThan(1.5)
    expect(tail[1]!).toBeLessThan(1.5)
    expect(tail[2]!).toBeGreaterThan(tail[0]!)
    expect(tail[3]!).toBeLessThan(tail[1]!)
  })

  it('hilbert24 is a bijection on a small corner and stays below 2^48', () => {
    const seen = new Set<number>()
    for (let x = 0; x < 16; x++) for (let y = 0; y < 16; y++) seen.add(hilbert24(x, y))
    expect(seen.size).toBe(256)
    expect(hilbert24(2 ** 24 - 1, 0)).toBeLessThan(2 ** 48)
  })
})

const smallOptions: fc.Arbitrary<AlexIndexOptions> = fc.record({
  maxDataNodeSlots: fc.constantFrom(32, 64, 256),
  maxFanout: fc.constantFrom(2, 16, 64),
  maxDepth: fc.constantFrom(6, 24),
})

/** Inserts the set in its order (the queue with a sliding window), checking against the model. */
function runSet(name: KeySetName, n: number, seed: number, options: AlexIndexOptions): void {
  const queue = name === 'queue'
  const keys = makeKeySet(name, queue ? 2 * n : n, seed)
  const ix = new AlexIndex(options)
  const model = new SortedArrayModel()
  const random = new Random(seed)
  for (let i = 0; i < keys.length; i++) {
    ix.set(keys[i]!, i)
    model.set(keys[i]!, i)
    if (queue && i >= n) expect(ix.delete(keys[i - n]!)).toBe(model.delete(keys[i - n]!))
    if (i % 97 === 0) {
      const probe = keys[random.below(i + 1)]!
      expect(ix.get(probe)).toBe(model.get(probe))
    }
    if (i % 500 === 499) checkInvariants(ix)
  }
  checkInvariants(ix)
  expect(ix.size).toBe(model.size)
  expect([...ix.keys()]).toEqual(model.keys)
  for (const k of shuffle(Float64Array.from(keys), random)) expect(ix.get(k)).toBe(model.get(k))
  // Deleting half in random order keeps everything consistent too.
  const order = shuffle(Float64Array.from(model.keys), random)
  for (let i = 0; i < order.length / 2; i++) expect(ix.delete(order[i]!)).toBe(true)
  checkInvariants(ix)
}

describe('differential: hard key sets vs sorted-array model', () => {
  for (const name of KEY_SETS) {
    it(`${name}: inserts in the set's order agree with the model and keep every invariant`, () => {
      fc.assert(
        fc.property(smallOptions, fc.integer({ min: 1, max: 1000 }), (options, seed) => {
          runSet(name, 3000, seed, options)
        }),
        { numRuns: 6 },
      )
    })
  }
  it('adversarial at default options, 30,000 keys', () => {
    runSet('adversarial', 30_000, 5, {})
  })
})
