import { readdirSync } from 'node:fs'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import {
  AlexStorage,
  type AlexStorageOptions,
  type RangeOptions,
  type Snapshot,
} from '../src/index.js'
import { tempDir, valueFor } from './helpers.js'

/**
 * Model-based test of `db.snapshot()`: random interleavings of puts, deletes, batches, bursts of
 * concurrent writes (with a snapshot taken while they are in flight), snapshots, releases,
 * checkpoints and compactions, with small segments (so compaction moves things) and a tiny
 * cache (so old records are read back from retired segments' files). Every snapshot read
 * (get, has, iteration with random ranges, reverse and limit, and iterations suspended across
 * writes and compactions) must equal the model's state at the snapshot's LSN, and after every
 * step every open snapshot must still show its whole state;
 * `db.version` must equal the model's LSN of each key's last write. After the last release, no
 * history and no retained segment may remain, and no segment file beyond the store's own.
 */

type Write = { put: true; key: number; len: number; v: number } | { put: false; key: number }
type Op =
  | { t: 'put'; w: Write }
  | { t: 'batch'; ws: Write[] }
  | { t: 'burst'; ws: Write[]; snapAfter: number }
  | { t: 'snap' }
  | { t: 'release'; i: number; dispose: boolean }
  | { t: 'read'; i: number; key: number }
  | { t: 'range'; i: number; range: RangeOptions; mode: 0 | 1 | 2 }
  | { t: 'across'; i: number; range: RangeOptions; at: number; ws: Write[]; compact: boolean }
  | { t: 'checkpoint' }
  | { t: 'compact' }

const keyArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: -3, max: 15 }) },
  { weight: 1, arbitrary: fc.constantFrom(-0, 0.5, -1e300, 1e300) },
)
const writeArb: fc.Arbitrary<Write> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      put: fc.constant(true as const),
      key: keyArb,
      len: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 2040, max: 2100 })),
      v: fc.nat(1000),
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
  { weight: 10, arbitrary: fc.record({ t: fc.constant('put' as const), w: writeArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('batch' as const),
      ws: fc.array(writeArb, { maxLength: 10 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('burst' as const),
      ws: fc.array(writeArb, { minLength: 1, maxLength: 12 }),
      snapAfter: fc.nat(12),
    }),
  },
  { weight: 4, arbitrary: fc.constant({ t: 'snap' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('release' as const),
      i: fc.nat(),
      dispose: fc.boolean(),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({ t: fc.constant('read' as const), i: fc.nat(), key: keyArb }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('range' as const),
      i: fc.nat(),
      range: rangeArb,
      mode: fc.constantFrom(0 as const, 1 as const, 2 as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('across' as const),
      i: fc.nat(),
      range: rangeArb,
      at: fc.nat(20),
      ws: fc.array(writeArb, { minLength: 1, maxLength: 15 }),
      compact: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'checkpoint' as const }) },
  { weight: 2, arbitrary: fc.constant({ t: 'compact' as const }) },
)

type State = Map<number, Uint8Array>

function expected(state: State, r: RangeOptions): [number, Uint8Array][] {
  let keys = [...state.keys()].sort((a, b) => a - b)
  keys = keys.filter(
    (k) =>
      (r.gt === undefined || k > r.gt) &&
      (r.gte === undefined || k >= r.gte) &&
      (r.lt === undefined || k < r.lt) &&
      (r.lte === undefined || k <= r.lte),
  )
  if (r.reverse) keys.reverse()
  if (r.limit !== undefined) keys = keys.slice(0, r.limit)
  return keys.map((k) => [k, state.get(k)!])
}

const norm = (k: number) => k + 0
const writeValue = (w: Write & { put: true }) => valueFor(w.key, w.v, w.len)

/** The store's internals the test checks after the last release. */
interface Internals {
  history: { size: number; keyCount: number; openSnapshots: number; recording: boolean }
  checkpointer: { retention: { retained: number } }
  segments: { retainedSegments: number }
}

const cleanups: (() => void)[] = []
afterAll(() => {
  for (const c of cleanups) c()
})

class Model {
  state: State = new Map()
  versions = new Map<number, number>()
  lsn = 0

  apply(w: Write): void {
    this.lsn++
    if (w.put) {
      this.state.set(norm(w.key), writeValue(w))
      this.versions.set(norm(w.key), this.lsn)
    } else {
      this.state.delete(norm(w.key))
      this.versions.delete(norm(w.key))
    }
  }
}

function issue(db: AlexStorage, w: Write): Promise<void> {
  return w.put ? db.put(w.key, writeValue(w)) : db.delete(w.key)
}

function read(snap: Snapshot, range: RangeOptions, mode: 0 | 1 | 2): unknown[] {
  if (mode === 0) return [...snap.entries(range)]
  if (mode === 1) return [...snap.keys(range)]
  return [...snap.values(range)]
}

function project(list: [number, Uint8Array][], mode: 0 | 1 | 2): unknown[] {
  if (mode === 0) return list
  if (mode === 1) return list.map(([k]) => k)
  return list.map(([, v]) => v)
}

async function run(ops: Op[], options: AlexStorageOptions): Promise<void> {
  const { dir, cleanup } = tempDir('alex-snap-model-')
  cleanups.push(cleanup)
  const db = await AlexStorage.open(dir, options)
  const model = new Model()
  const open: { snap: Snapshot; state: State; lsn: number }[] = []
  const take = (state: State, lsn: number) => {
    const snap = db.snapshot()
    expect(snap.lsn).toBe(lsn)
    open.push({ snap, state: new Map(state), lsn })
  }
  /** Every open snapshot still shows its whole state. */
  const verifyAll = () => {
    for (const o of open) {
      expect([...o.snap.entries()]).toEqual(expected(o.state, {}))
      for (const [k, v] of o.state) expect(o.snap.get(k)).toEqual(v)
    }
  }
  try {
    for (const op of ops) {
      switch (op.t) {
        case 'put':
          await issue(db, op.w)
          model.apply(op.w)
          break
        case 'batch':
          await db.batch(
            op.ws.map((w) =>
              w.put
                ? { type: 'put' as const, key: w.key, value: writeValue(w) }
                : { type: 'delete' as const, key: w.key },
            ),
          )
          for (const w of op.ws) model.apply(w)
          break
        case 'burst': {
          // Writes in flight are not applied: a snapshot taken among them sees none of them.
          const before = new Map(model.state)
          const lsnBefore = model.lsn
          const done: Promise<void>[] = []
          op.ws.forEach((w, i) => {
            done.push(issue(db, w))
            if (i === op.snapAfter) take(before, lsnBefore)
          })
          await Promise.all(done)
          for (const w of op.ws) model.apply(w)
          break
        }
        case 'snap':
          take(model.state, model.lsn)
          break
        case 'release': {
          if (open.length === 0) break
          const [o] = open.splice(op.i % open.length, 1)
          if (op.dispose) o!.snap[Symbol.dispose]()
          else o!.snap.release()
          o!.snap.release() // idempotent
          expect(() => o!.snap.get(1)).toThrow(
            expect.objectContaining({ code: 'ERR_SNAPSHOT_RELEASED' }),
          )
          break
        }
        case 'read': {
          const key = norm(op.key)
          expect(db.get(key)).toEqual(model.state.get(key))
          expect(db.version(key)).toBe(model.versions.get(key))
          if (open.length === 0) break
          const o = open[op.i % open.length]!
          expect(o.snap.get(key)).toEqual(o.state.get(key))
          expect(o.snap.has(key)).toBe(o.state.has(key))
          break
        }
        case 'range': {
          if (open.length === 0) break
          const o = open[op.i % open.length]!
          expect(read(o.snap, op.range, op.mode)).toEqual(
            project(expected(o.state, op.range), op.mode),
          )
          break
        }
        case 'across': {
          // An iteration suspended across writes (and a compaction) yields the snapshot's state.
          if (open.length === 0) break
          const o = open[op.i % open.length]!
          const it = o.snap.entries(op.range)
          const got: [number, Uint8Array][] = []
          for (let n = 0; n < op.at; n++) {
            const r = it.next()
            if (r.done) break
            got.push(r.value)
          }
          for (const w of op.ws) {
            await issue(db, w)
            model.apply(w)
          }
          if (op.compact) await db.compact()
          for (const e of it) got.push(e)
          expect(got).toEqual(expected(o.state, op.range))
          break
        }
        case 'checkpoint':
          await db.checkpoint()
          break
        case 'compact':
          await db.compact()
          break
      }
      verifyAll()
    }
    expect([...db.entries()]).toEqual(expected(model.state, {}))
    // Release the rest one at a time, in a scrambled order, checking the others after each.
    for (let n = 0; open.length > 0; n++) {
      open.splice((n * 7919) % open.length, 1)[0]!.snap.release()
      verifyAll()
    }
    const internals = db as unknown as Internals
    expect(internals.history.openSnapshots).toBe(0)
    expect(internals.history.recording).toBe(false)
    expect(internals.history.size).toBe(0)
    expect(internals.history.keyCount).toBe(0)
    expect(internals.checkpointer.retention.retained).toBe(0)
    expect(internals.segments.retainedSegments).toBe(0)
    const files = readdirSync(dir).filter((f) => f.endsWith('.seg'))
    expect(files.length).toBe(db.stats().segments)
  } finally {
    await db.close()
  }
}

describe('snapshots against a model', () => {
  it('every snapshot read equals the model at its LSN (small segments, tiny cache)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 70 }), (ops) =>
        run(ops, {
          sync: 'none',
          segmentBytes: 4096,
          cacheBytes: 12 * 1024,
          autoCompaction: true,
          compactionThreshold: 0.5,
          compactionMinBytes: 4096,
          checkpointRecords: 30,
        }),
      ),
      { numRuns: 120 },
    )
  })

  it('every snapshot read equals the model at its LSN (durable writes, default sizes)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) =>
        run(ops, { sync: 'always' }),
      ),
      { numRuns: 20 },
    )
  })
})
