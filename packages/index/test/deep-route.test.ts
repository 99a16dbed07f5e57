/**
 * Deep routing tables (src/deep-route.ts): lookups of keys more than two model levels deep walk
 * flattened rows instead of node objects. They must send every key to the leaf the tree gives
 * it, stay correct across inserts and deletes that keep the shape, and be dropped with the
 * lookup cache when the shape changes. The invariant checker compares them key by key.
 */
import { makeKeySet, Random, shuffle } from '@alex/test-support/bench'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AlexIndex, type AlexIndexOptions, checkInvariants } from '../src/index.js'
import { SortedArrayModel } from './model.js'

const DEEP: AlexIndexOptions = { maxDataNodeSlots: 32, maxFanout: 4 }

/** Gets every key of `keys` until the index has rebuilt its lookup tables (bounded). */
function warm(ix: AlexIndex, keys: ArrayLike<number>): void {
  for (let round = 0; round < 64 && ix._cacheShape !== ix._shape; round++) {
    for (let i = 0; i < keys.length; i++) ix.get(keys[i]!)
  }
  expect(ix._cacheShape).toBe(ix._shape)
}

describe('deep routing tables', () => {
  it('route every key of a deep tree to its leaf, and absent keys to undefined', () => {
    const keys = makeKeySet('gapped', 4000, 7)
    const ix = new AlexIndex(DEEP)
    for (let i = 0; i < keys.length; i++) ix.set(keys[i]!, i)
    warm(ix, keys)
    expect(ix.stats().height).toBeGreaterThan(3)
    expect(ix._deep.rf.length).toBeGreaterThan(0)
    checkInvariants(ix)
    for (let i = 0; i < keys.length; i++) {
      expect(ix.get(keys[i]!)).toBe(i)
      expect(ix.get(keys[i]! + 0.5)).toBeUndefined()
    }
  })

  it('are not built for a tree the two-level lookup cache covers', () => {
    const keys = Float64Array.from({ length: 5000 }, (_, i) => i * 3)
    const ix = AlexIndex.from(keys, keys)
    warm(ix, keys)
    expect(ix.stats().height).toBeLessThanOrEqual(3)
    expect(ix._deep.rf.length).toBe(0)
  })

  it('are dropped when the shape changes and rebuilt for the new shape', () => {
    const keys = makeKeySet('clustered', 3000, 3)
    const ix = new AlexIndex(DEEP)
    for (let i = 0; i < keys.length; i++) ix.set(keys[i]!, i)
    warm(ix, keys)
    expect(ix._deep.rf.length).toBeGreaterThan(0)
    // Enough inserts to split nodes: the tables must be gone until rebuilt.
    const more = makeKeySet('clustered', 3000, 4)
    for (let i = 0; i < more.length; i++) ix.set(more[i]!, -i - 1)
    expect(ix._cacheShape).not.toBe(ix._shape)
    expect(ix._deep.rf.length).toBe(0)
    checkInvariants(ix)
    warm(ix, keys)
    checkInvariants(ix)
    for (let i = 0; i < more.length; i++)
      expect(ix.get(more[i]!)).toBe(ix.has(more[i]!) ? -i - 1 : undefined)
  })

  it('the checker notices a deep table sending a key to the wrong leaf', () => {
    const keys = makeKeySet('gapped', 4000, 11)
    const ix = new AlexIndex(DEEP)
    for (let i = 0; i < keys.length; i++) ix.set(keys[i]!, i)
    warm(ix, keys)
    const ri = ix._deep.ri
    // Swap two distinct leaf entries: keys of one leaf now reach another's slot array.
    const a = ri.findIndex((e) => e < 0)
    const b = ri.findIndex((e) => e < 0 && e !== ri[a])
    expect(b).toBeGreaterThan(a)
    const t = ri[a]!
    ri[a] = ri[b]!
    ri[b] = t
    expect(() => checkInvariants(ix)).toThrow(/deep-route/)
  })

  it('agree with a sorted-array model through random inserts, deletes and gets', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.constantFrom('gapped', 'clustered', 'adversarial' as const),
        (seed, set) => {
          const keys = makeKeySet(set, 2500, seed)
          const random = new Random(seed)
          const ix = new AlexIndex(DEEP)
          const model = new SortedArrayModel()
          for (let i = 0; i < keys.length; i++) {
            ix.set(keys[i]!, i)
            model.set(keys[i]!, i)
          }
          warm(ix, keys)
          // Changes that mostly stay inside nodes, each followed by lookups through the tables.
          for (let step = 0; step < 400; step++) {
            const k = keys[random.below(keys.length)]!
            if (random.next() < 0.5) expect(ix.delete(k)).toBe(model.delete(k))
            else {
              ix.set(k, step)
              model.set(k, step)
            }
            const probe = keys[random.below(keys.length)]!
            expect(ix.get(probe)).toBe(model.get(probe))
            if (step % 100 === 99) {
              warm(ix, keys)
              checkInvariants(ix)
            }
          }
          for (const k of shuffle(Float64Array.from(keys), random)) {
            expect(ix.get(k)).toBe(model.get(k))
          }
        },
      ),
      { numRuns: 12 },
    )
  })
})
