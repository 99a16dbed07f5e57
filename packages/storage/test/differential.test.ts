import { type AlexIndex, checkInvariants } from '@alex/index'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { AlexStorage, type AlexStorageOptions, type RangeOptions } from '../src/index.js'
import { tempDir, valueFor } from './helpers.js'

/**
 * Differential test: random sequences of put / delete / batch / concurrent bursts / get / range,
 * with checkpoints, compactions and close-and-reopen in between, against a Map. Small segments
 * and a tiny cache make rotations, evictions and disk reads common.
 */

type Op =
  | { t: 'put'; key: number; len: number; v: number }
  | { t: 'del'; key: number }
  | {
      t: 'batch'
      ops: ({ put: true; key: number; len: number; v: number } | { put: false; key: number })[]
    }
  | {
      t: 'burst'
      ops: ({ put: true; key: number; len: number; v: number } | { put: false; key: number })[]
    }
  | { t: 'get'; key: number }
  | { t: 'range'; range: RangeOptions }
  | { t: 'checkpoint' }
  | { t: 'compact' }
  | { t: 'reopen' }

const keyArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -20, max: 60 }) },
  {
    weight: 1,
    arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
  },
  { weight: 1, arbitrary: fc.constantFrom(-0, 0.5, 1e300, -1e300, Number.MIN_VALUE) },
)
const lenArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 40 }) },
  { weight: 4, arbitrary: fc.integer({ min: 41, max: 900 }) },
  // Around the longest length a location carries (2046), and values bigger than a segment.
  { weight: 1, arbitrary: fc.integer({ min: 2040, max: 2060 }) },
  { weight: 1, arbitrary: fc.integer({ min: 3000, max: 6000 }) },
)
const writeArb = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      put: fc.constant(true as const),
      key: keyArb,
      len: lenArb,
      v: fc.nat(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ put: fc.constant(false as const), key: keyArb }) },
)
const boundArb = fc.option(keyArb, { nil: undefined })
const rangeArb: fc.Arbitrary<RangeOptions> = fc
  .record({
    lo: boundArb,
    loInc: fc.boolean(),
    hi: boundArb,
    hiInc: fc.boolean(),
    reverse: fc.boolean(),
    limit: fc.option(fc.nat(30), { nil: undefined }),
  })
  .map(({ lo, loInc, hi, hiInc, reverse, limit }) => {
    const r: RangeOptions = { reverse }
    if (lo !== undefined) r[loInc ? 'gte' : 'gt'] = lo
    if (hi !== undefined) r[hiInc ? 'lte' : 'lt'] = hi
    if (limit !== undefined) r.limit = limit
    return r
  })

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({ t: fc.constant('put' as const), key: keyArb, len: lenArb, v: fc.nat() }),
  },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('del' as const), key: keyArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('batch' as const),
      ops: fc.array(writeArb, { maxLength: 12 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('burst' as const),
      ops: fc.array(writeArb, { minLength: 2, maxLength: 20 }),
    }),
  },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('get' as const), key: keyArb }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('range' as const), range: rangeArb }) },
  { weight: 1, arbitrary: fc.constant({ t: 'checkpoint' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'compact' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'reopen' as const }) },
)

function modelRange(model: Map<number, Uint8Array>, r: RangeOptions): [number, Uint8Array][] {
  let keys = [...model.keys()].sort((a, b) => a - b)
  keys = keys.filter(
    (k) =>
      (r.gt === undefined || k > r.gt) &&
      (r.gte === undefined || k >= r.gte) &&
      (r.lt === undefined || k < r.lt) &&
      (r.lte === undefined || k <= r.lte),
  )
  if (r.reverse) keys.reverse()
  if (r.limit !== undefined) keys = keys.slice(0, r.limit)
  return keys.map((k) => [k, model.get(k)!])
}

const norm = (k: number) => k + 0

const cleanups: (() => void)[] = []
afterAll(() => {
  for (const c of cleanups) c()
})

async function runSequence(ops: Op[], options: AlexStorageOptions): Promise<void> {
  const { dir, cleanup } = tempDir('alex-diff-')
  cleanups.push(cleanup)
  let db = await AlexStorage.open(dir, options)
  const model = new Map<number, Uint8Array>()
  try {
    for (const op of ops) {
      switch (op.t) {
        case 'put': {
          const value = valueFor(op.key, op.v, op.len)
          await db.put(op.key, value)
          model.set(norm(op.key), value)
          break
        }
        case 'del':
          await db.delete(op.key)
          model.delete(norm(op.key))
          break
        case 'batch': {
          await db.batch(
            op.ops.map((w) =>
              w.put
                ? { type: 'put' as const, key: w.key, value: valueFor(w.key, w.v, w.len) }
                : { type: 'delete' as const, key: w.key },
            ),
          )
          for (const w of op.ops) {
            if (w.put) model.set(norm(w.key), valueFor(w.key, w.v, w.len))
            else model.delete(norm(w.key))
          }
          break
        }
        case 'burst': {
          // Many writes in flight at once: they share fsyncs and must apply in call order.
          await Promise.all(
            op.ops.map((w) =>
              w.put ? db.put(w.key, valueFor(w.key, w.v, w.len)) : db.delete(w.key),
            ),
          )
          for (const w of op.ops) {
            if (w.put) model.set(norm(w.key), valueFor(w.key, w.v, w.len))
            else model.delete(norm(w.key))
          }
          break
        }
        case 'get':
          expect(db.get(op.key)).toEqual(model.get(norm(op.key)))
          expect(db.has(op.key)).toBe(model.has(norm(op.key)))
          break
        case 'range':
          expect([...db.entries(op.range)]).toEqual(modelRange(model, op.range))
          break
        case 'checkpoint':
          await db.checkpoint()
          break
        case 'compact':
          await db.compact()
          break
        case 'reopen':
          await db.close()
          db = await AlexStorage.open(dir, options)
          break
      }
    }
    expect([...db.entries()]).toEqual(modelRange(model, {}))
    checkInvariants((db as unknown as { index: AlexIndex }).index)
    const s = db.stats()
    expect(s.keys).toBe(model.size)
    let live = 0
    for (const v of model.values()) live += 25 + v.length
    expect(s.liveBytes).toBe(live)
    await db.close()
    db = await AlexStorage.open(dir, options)
    expect([...db.entries()]).toEqual(modelRange(model, {}))
    expect(db.stats().liveBytes).toBe(live)
  } finally {
    await db.close()
  }
}

describe('differential test against a Map', () => {
  it('agrees with the model (small segments, tiny cache)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 80 }), (ops) =>
        runSequence(ops, {
          sync: 'none',
          segmentBytes: 4096,
          cacheBytes: 12 * 1024,
          autoCompaction: true,
          compactionThreshold: 0.6,
          compactionMinBytes: 4096,
          checkpointRecords: 40,
        }),
      ),
      { numRuns: 150 },
    )
  })

  it('agrees with the model (durable writes, defaults)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) =>
        runSequence(ops, { sync: 'always' }),
      ),
      { numRuns: 30 },
    )
  })
})
