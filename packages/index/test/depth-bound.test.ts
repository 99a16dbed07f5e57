/**
 * The depth bound (issue #14, docs/index-design.md "Depth bound"): a queue window (append at
 * the tail, delete at the head) and gapped ids inserted in random order, run through the index
 * and the sorted-array model with small node limits. Every answer agrees with the model, every
 * invariant holds, and the tree never gets more than a few levels deeper than a bulk load of
 * the same keys (without the bound the queue window reached the depth cap, 24 levels).
 */
import { makeKeySet, Random } from '@alex/test-support/bench'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DEPTH_SLACK, heightBound } from '../src/depth-bound.js'
import { AlexIndex, type AlexIndexOptions, checkInvariants } from '../src/index.js'
import { SortedArrayModel } from './model.js'

const smallOptions: fc.Arbitrary<AlexIndexOptions> = fc.record({
  maxDataNodeSlots: fc.constantFrom(32, 64, 256),
  maxFanout: fc.constantFrom(16, 64),
})

/**
 * Levels a tree may gain between rebuilds: a subtree is rebuilt only after taking half as many
 * inserts as it was built with (so each rebuild is paid for), and deep subtrees off the split
 * paths are looked for once per size/2 inserts.
 */
const LAG = 3

/**
 * Levels allowed at a checkpoint: the deepest of the fixed bound, a bulk load of the current
 * keys and the bulk load the root was last built by (on these keys the bulk loader's depth
 * varies by several levels with the window's position), plus the slack, plus LAG.
 */
function cap(ix: AlexIndex, options: AlexIndexOptions): number {
  const keys = Float64Array.from(ix.keys())
  const bulk = AlexIndex.from(keys, keys, options).stats().height
  const root = ix._root
  const built = root.isData ? 1 : root.builtHeight
  return Math.max(heightBound(ix.size, ix._cfg), bulk, built) + DEPTH_SLACK + LAG
}

function run(name: 'queue' | 'gapped', n: number, seed: number, options: AlexIndexOptions) {
  const queue = name === 'queue'
  const keys = makeKeySet(name, queue ? 3 * n : n, seed)
  const ix = new AlexIndex(options)
  const model = new SortedArrayModel()
  const random = new Random(seed)
  let maxExcess = Number.NEGATIVE_INFINITY
  for (let i = 0; i < keys.length; i++) {
    ix.set(keys[i]!, i)
    model.set(keys[i]!, i)
    if (queue && i >= n) expect(ix.delete(keys[i - n]!)).toBe(model.delete(keys[i - n]!))
    if (i % 97 === 0) {
      const probe = keys[random.below(i + 1)]!
      expect(ix.get(probe)).toBe(model.get(probe))
    }
    if (i % 500 === 499) {
      checkInvariants(ix)
      const h = ix.stats().height
      const c = cap(ix, options)
      expect(h).toBeLessThanOrEqual(c)
      maxExcess = Math.max(maxExcess, h - c)
    }
  }
  checkInvariants(ix)
  expect(ix.size).toBe(model.size)
  expect([...ix.keys()]).toEqual(model.keys)
  for (const k of model.keys) expect(ix.get(k)).toBe(model.get(k))
  return { ix, maxExcess }
}

describe('depth bound', () => {
  for (const name of ['queue', 'gapped'] as const) {
    it(`${name}: agrees with the model and stays within the depth bound`, () => {
      fc.assert(
        fc.property(smallOptions, fc.integer({ min: 1, max: 1000 }), (options, seed) => {
          run(name, 3000, seed, options)
        }),
        { numRuns: 8, seed: 14 },
      )
    })
  }

  it('queue window: deep subtrees are rebuilt, moving a bounded number of keys', () => {
    const { ix } = run('queue', 20_000, 7, { maxDataNodeSlots: 64, maxFanout: 16 })
    expect(ix._depthRebuilds).toBeGreaterThan(0)
    // Amortized: keys moved by rebuilds stay a small multiple of the operations.
    expect(ix._depthRebuildKeys).toBeLessThan(60_000 * 4)
  })
})
