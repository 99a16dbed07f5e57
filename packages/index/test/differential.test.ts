/**
 * Differential property tests: random sequences of set/swap/delete/get/has/range/iteration run on
 * an AlexIndex and on a sorted-array model must agree, for every key distribution, with the
 * structural invariant checker run during and after each sequence. Small node limits make
 * expansions, splits, domain growth and merges happen constantly.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AlexIndex, type AlexIndexOptions, checkInvariants } from '../src/index.js'
import { SortedArrayModel } from './model.js'

// Stress knobs (defaults are what CI runs): ALEX_FC_SEED, ALEX_FC_RUNS, ALEX_DIST (one
// distribution), ALEX_CHECK_EVERY (run the invariant checker after every operation).
const CHECK_EVERY_OP = process.env.ALEX_CHECK_EVERY !== undefined
const ULP1 = Number.EPSILON
const MIN_SUB = Number.MIN_VALUE

/** Maps (op index, selector) to a key of the distribution. */
type KeyGen = (i: number, sel: number, unit: number) => number

const distributions: Record<string, KeyGen> = {
  uniform: (_i, _s, u) => (u - 0.5) * 2e9,
  ascending: (i, s) => 1000 + i * 7 + (s % 5),
  descending: (i, s) => 1e7 - i * 3 - (s % 2),
  'dense integers': (_i, s) => s % 1500,
  clustered: (_i, s, u) => [-1e12, 0, 5e3, 1e15][s % 4]! + u * 1e-3,
  lognormal: (_i, s, u) => {
    const g = Math.sqrt(-2 * Math.log(1 - u)) * Math.cos((2 * Math.PI * (s % 1000)) / 1000)
    return Math.exp(2 * g) * 100
  },
  'extreme magnitudes': (_i, s, u) => {
    const pick = s % 8
    const sign = s % 3 === 0 ? -1 : 1
    if (pick === 0) return sign * Number.MAX_VALUE * (1 - (s % 64) * ULP1)
    if (pick === 1) return sign * 1e308 * u
    if (pick === 2) return sign * MIN_SUB * (s % 2000)
    if (pick === 3) return sign * 2.2250738585072014e-308 * (1 + (s % 100))
    if (pick === 4) return sign * 1e-300 * u
    if (pick === 5) return sign * 1e300 * (1 + (s % 50))
    if (pick === 6) return (s % 100) - 50
    return sign * u * 1e150
  },
  'consecutive ulps': (_i, s) => {
    const j = s % 3000
    if (s % 3 === 0) return 1 + j * ULP1
    if (s % 3 === 1) return 1e300 + j * 2 ** 945
    return -(1 + j * ULP1)
  },
  negatives: (i, s, u) => (s % 2 === 0 ? -u * 1e6 : -1e6 - i * 11),
}

type Op = { kind: number; sel: number; unit: number; payload: number }

const opArb = fc.record({
  kind: fc.nat(99),
  sel: fc.nat(1 << 20),
  unit: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
  payload: fc.oneof(
    fc.integer(),
    fc.double(),
    fc.constantFrom(-0, Number.NaN, Number.MAX_VALUE, -Number.MAX_VALUE, 2 ** 53 - 1),
  ),
})

const optionsArb: fc.Arbitrary<AlexIndexOptions> = fc.record({
  maxDataNodeSlots: fc.constantFrom(32, 48, 64, 256),
  maxFanout: fc.constantFrom(2, 4, 16, 64),
  maxDepth: fc.constantFrom(6, 24),
})

function same(a: number | undefined, b: number | undefined): boolean {
  return Object.is(a, b)
}

function runSequence(gen: KeyGen, options: AlexIndexOptions, initial: number, ops: Op[]): void {
  const model = new SortedArrayModel()
  // Optionally start from a bulk load of the first `initial` keys.
  const bulkKeys: number[] = []
  const bulkPayloads: number[] = []
  for (let i = 0; i < initial; i++) {
    const k = gen(i, i * 7919, (i * 0.618033988749895) % 1)
    bulkKeys.push(k)
    bulkPayloads.push(i)
    model.set(k, i)
  }
  const ix = initial > 0 ? AlexIndex.from(bulkKeys, bulkPayloads, options) : new AlexIndex(options)
  checkInvariants(ix)
  const inserted: number[] = [...bulkKeys]
  for (let n = 0; n < ops.length; n++) {
    const { kind, sel, unit, payload } = ops[n]!
    const fresh = gen(n + initial, sel, unit)
    const old = inserted.length > 0 ? inserted[sel % inserted.length]! : fresh
    const key = sel % 2 === 0 ? fresh : old
    if (kind < 45) {
      if (sel & 16) {
        const replaced = ix.swap(key, payload)
        if (!same(replaced, model.get(key))) expect(replaced).toBe(model.get(key))
      } else ix.set(key, payload)
      model.set(key, payload)
      inserted.push(key)
    } else if (kind < 65) {
      expect(ix.delete(key)).toBe(model.delete(key))
    } else if (kind < 80) {
      const got = ix.get(key)
      const want = model.get(key)
      if (!same(got, want)) expect(got).toBe(want)
      expect(ix.has(key)).toBe(want !== undefined)
    } else if (kind < 92) {
      const a = gen(n, sel >>> 3, unit)
      const b = inserted.length > 0 ? inserted[(sel >>> 5) % inserted.length]! : a
      const lo = Math.min(a, b)
      const hi = Math.max(a, b)
      const r = {
        ...(sel & 1 ? { gt: lo } : { gte: lo }),
        ...(sel & 2 ? { lt: hi } : { lte: hi }),
        reverse: (sel & 4) !== 0,
        limit: sel & 8 ? (sel >>> 4) % 40 : -1,
      }
      const want = model.range(r)
      expect([...ix.entries(r)]).toEqual(want)
      const viaForEach: [number, number][] = []
      ix.forEach((v, k) => {
        viaForEach.push([k, v])
      }, r)
      expect(viaForEach).toEqual(want)
    } else if (kind < 96) {
      expect([...ix.keys()]).toEqual(model.keys)
      expect(ix.size).toBe(model.size)
      expect(ix.min()).toBe(model.keys[0])
      expect(ix.max()).toBe(model.keys[model.keys.length - 1])
    } else {
      checkInvariants(ix)
    }
    if (n % 200 === 199 || CHECK_EVERY_OP) checkInvariants(ix)
  }
  checkInvariants(ix)
  expect(ix.size).toBe(model.size)
  expect([...ix.values()]).toEqual(model.payloads)
}

describe('differential: AlexIndex vs sorted-array model', () => {
  for (const [name, gen] of Object.entries(distributions).filter(
    ([n]) => !process.env.ALEX_DIST || n === process.env.ALEX_DIST,
  )) {
    it(`${name}: >= 10,000 operations agree and keep every invariant`, () => {
      let total = 0
      fc.assert(
        fc.property(
          optionsArb,
          fc.constantFrom(0, 0, 50, 600),
          fc.array(opArb, { minLength: 700, maxLength: 900 }),
          (options, initial, ops) => {
            total += ops.length
            runSequence(gen, options, initial, ops)
          },
        ),
        {
          numRuns: Number(process.env.ALEX_FC_RUNS ?? 14),
          seed: Number(process.env.ALEX_FC_SEED ?? 20260425) ^ name.length,
          endOnFailure: true,
        },
      )
      expect(total).toBeGreaterThanOrEqual(10_000)
    })
  }
})
