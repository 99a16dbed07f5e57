import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { AlexStorage, type Snapshot } from '../src/index.js'
import { releaseCollected } from '../src/snapshot-view.js'
import { tempDir, valueFor } from './helpers.js'

/**
 * `db.snapshot()`: consistency across writes, checkpoints and compactions at the boundaries the
 * model test (snapshot-model.test.ts) reaches only by chance; retention of compacted segments
 * (kept until the last older snapshot goes, then deleted); iterations larger than a chunk;
 * release by `release()`, `[Symbol.dispose]`, garbage collection and `close()`; errors.
 */

const WAIT = { timeout: 120_000, interval: 10 } // condition waits; generous for a loaded CI

let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir('alex-snapshots-'))
})
afterEach(() => cleanup())

/** Small segments, no automatic maintenance: the test decides when to compact. */
const OPTIONS = { sync: 'none', segmentBytes: 4096, autoCompaction: false } as const
const v = (key: number, version: number, length = 100) => valueFor(key, version, length)
const segmentFiles = () => readdirSync(dir).filter((f) => f.endsWith('.seg'))

interface Internals {
  history: { size: number; keyCount: number; openSnapshots: number; recording: boolean }
  checkpointer: { retention: { retained: number } }
}
const internals = (db: AlexStorage) => db as unknown as Internals

async function fill(db: AlexStorage, keys: number, version: number, length = 100): Promise<void> {
  for (let k = 0; k < keys; k++) await db.put(k, v(k, version, length))
}

describe('snapshot reads', () => {
  it('sees the state at its LSN across puts, deletes, batches and checkpoints', async () => {
    const db = await AlexStorage.open(dir, OPTIONS)
    await fill(db, 20, 1)
    const snap = db.snapshot()
    expect(snap.lsn).toBe(db.stats().lsn)
    await db.put(3, v(3, 2))
    await db.delete(4)
    await db.put(100, v(100, 2)) // created after the snapshot
    await db.batch([
      { type: 'put', key: 5, value: v(5, 2) },
      { type: 'delete', key: 6 },
      { type: 'put', key: 5, value: v(5, 3) },
    ])
    await db.checkpoint()
    for (let k = 0; k < 20; k++) {
      expect(snap.get(k)).toEqual(v(k, 1))
      expect(snap.has(k)).toBe(true)
    }
    expect(snap.get(100)).toBeUndefined()
    expect(snap.has(100)).toBe(false)
    expect([...snap.keys()]).toEqual(Array.from({ length: 20 }, (_, k) => k))
    expect(db.get(5)).toEqual(v(5, 3))
    expect(db.has(4)).toBe(false)
    snap.release()
    await db.close()
  })

  it('a snapshot taken while writes are in flight sees none of them', async () => {
    const db = await AlexStorage.open(dir, OPTIONS)
    await db.put(1, v(1, 1))
    const pending = [db.put(1, v(1, 2)), db.put(2, v(2, 2)), db.delete(1)]
    const snap = db.snapshot()
    await Promise.all(pending)
    expect(snap.get(1)).toEqual(v(1, 1))
    expect(snap.get(2)).toBeUndefined()
    expect([...snap.entries()]).toEqual([[1, v(1, 1)]])
    snap.release()
    await db.close()
  })

  it('iterates more than a chunk (256) of both the index and the history, in every direction', async () => {
    const db = await AlexStorage.open(dir, { ...OPTIONS, segmentBytes: 64 * 1024 })
    const before = new Map<number, Uint8Array>()
    const ops = []
    for (let k = 0; k < 1500; k++) {
      before.set(k, v(k, 1, 20))
      ops.push({ type: 'put' as const, key: k, value: v(k, 1, 20) })
    }
    await db.batch(ops)
    const snap = db.snapshot()
    // Interleave: delete the odd keys, overwrite every third, add half-keys and new keys.
    const after = []
    for (let k = 0; k < 1500; k++) {
      if (k % 2 === 1) after.push({ type: 'delete' as const, key: k })
      else if (k % 3 === 0) after.push({ type: 'put' as const, key: k, value: v(k, 2, 20) })
      after.push({ type: 'put' as const, key: k + 0.5, value: v(k, 3, 20) })
    }
    for (let k = 1500; k < 2000; k++)
      after.push({ type: 'put' as const, key: k, value: v(k, 3, 20) })
    await db.batch(after)
    const all = [...before.entries()]
    const check = (range: Parameters<Snapshot['entries']>[0], want: [number, Uint8Array][]) =>
      expect([...snap.entries(range)]).toEqual(want)
    check({}, all)
    check({ reverse: true }, [...all].reverse())
    check(
      { gt: 300.2, lte: 1200 },
      all.filter(([k]) => k > 300.2 && k <= 1200),
    )
    check(
      { gte: 100, lt: 1400, reverse: true, limit: 700 },
      all
        .filter(([k]) => k >= 100 && k < 1400)
        .reverse()
        .slice(0, 700),
    )
    check({ limit: 257 }, all.slice(0, 257))
    expect([...snap.values({ gt: 1490 })]).toEqual(all.slice(1491).map(([, x]) => x))
    const changed = new Set(after.map((op) => op.key))
    expect(internals(db).history.keyCount).toBe(changed.size) // each changed key once
    snap.release()
    await db.close()
  })

  it('an iteration suspended across writes, a checkpoint and a compaction is unchanged', async () => {
    const db = await AlexStorage.open(dir, { ...OPTIONS, cacheBytes: 0 })
    await fill(db, 600, 1, 50)
    const snap = db.snapshot()
    const it = snap.entries()
    const got: [number, Uint8Array][] = []
    for (let i = 0; i < 300; i++) got.push(it.next().value as [number, Uint8Array])
    for (let k = 0; k < 600; k += 2) await db.put(k, v(k, 2, 50))
    for (let k = 1; k < 600; k += 4) await db.delete(k)
    await db.put(1000, v(1000, 2))
    await db.checkpoint()
    await db.compact()
    for (const e of it) got.push(e)
    expect(got).toEqual(Array.from({ length: 600 }, (_, k) => [k, v(k, 1, 50)]))
    snap.release()
    await db.close()
  })

  it('db.entries() stays live by default; snap.entries() is the consistent one', async () => {
    const db = await AlexStorage.open(dir, OPTIONS)
    await fill(db, 600, 1, 10)
    const snap = db.snapshot()
    const live = db.keys({ gte: 0 })
    const frozen = snap.keys({ gte: 0 })
    for (let i = 0; i < 300; i++) {
      live.next()
      frozen.next()
    }
    await db.put(599.5, v(599, 2, 10)) // ahead of both positions
    await db.delete(599)
    expect([...live].slice(-2)).toEqual([598, 599.5])
    expect([...frozen].slice(-2)).toEqual([598, 599])
    snap.release()
    await db.close()
  })

  it('verifies identity like get: a record of another key is ERR_CORRUPTION', async () => {
    const db = await AlexStorage.open(dir, OPTIONS)
    await db.put(1, v(1, 1))
    await db.put(2, v(2, 1))
    const snap = db.snapshot()
    await db.put(1, v(1, 2))
    // Point the history's old location of key 1 at key 2's record (a misplaced record).
    const index = (db as unknown as { index: { get(k: number): number } }).index
    const history = internals(db).history as unknown as { olds: Float64Array }
    history.olds[0] = index.get(2)
    expect(() => snap.get(1)).toThrow(expect.objectContaining({ code: 'ERR_CORRUPTION' }))
    snap.release()
    await db.close()
  })
})

describe('retention of compacted segments', () => {
  it('keeps the compacted segments until the snapshot is released, then deletes them', async () => {
    const db = await AlexStorage.open(dir, { ...OPTIONS, cacheBytes: 0 })
    await fill(db, 200, 1)
    const snap = db.snapshot()
    await fill(db, 200, 2)
    const inputs = segmentFiles()
    await db.compact()
    // The inputs are still on disk (and readable through the snapshot, from their files).
    for (const f of inputs) expect(existsSync(join(dir, f))).toBe(true)
    expect(internals(db).checkpointer.retention.retained).toBeGreaterThan(0)
    for (let k = 0; k < 200; k++) expect(snap.get(k)).toEqual(v(k, 1))
    // Dead bytes are as without the snapshot: the retained segments are out of the accounting.
    expect(db.stats().deadBytes).toBe(0)
    expect(db.stats().segments).toBe(segmentFiles().length - inputs.length)
    snap.release()
    for (const f of inputs) expect(existsSync(join(dir, f))).toBe(false)
    expect(internals(db).checkpointer.retention.retained).toBe(0)
    expect(segmentFiles().length).toBe(db.stats().segments)
    for (let k = 0; k < 200; k++) expect(db.get(k)).toEqual(v(k, 2))
    await db.close()
  })

  it('one write between the snapshot and the compaction is enough to keep the inputs', async () => {
    const db = await AlexStorage.open(dir, OPTIONS)
    await db.put(1, v(1, 1))
    const snap = db.snapshot()
    await db.put(1, v(1, 2)) // LSN snap.lsn + 1 = the compaction's checkpoint LSN
    const inputs = segmentFiles()
    await db.compact()
    expect(db.stats().checkpointLsn).toBe(snap.lsn + 1)
    for (const f of inputs) expect(existsSync(join(dir, f))).toBe(true)
    expect(snap.get(1)).toEqual(v(1, 1))
    snap.release()
    for (const f of inputs) expect(existsSync(join(dir, f))).toBe(false)
    await db.close()
  })

  it('a snapshot at the compaction LSN (nothing written since) does not keep the inputs', async () => {
    const db = await AlexStorage.open(dir, OPTIONS)
    await fill(db, 50, 1)
    await fill(db, 50, 2)
    const snap = db.snapshot()
    const inputs = segmentFiles()
    await db.compact()
    for (const f of inputs) expect(existsSync(join(dir, f))).toBe(false)
    for (let k = 0; k < 50; k++) expect(snap.get(k)).toEqual(v(k, 2))
    snap.release()
    await db.close()
  })

  it('waits for the oldest of several snapshots, released in any order', async () => {
    const db = await AlexStorage.open(dir, OPTIONS)
    await fill(db, 50, 1)
    const old = db.snapshot()
    await fill(db, 50, 2)
    const middle = db.snapshot()
    await fill(db, 50, 3)
    const inputs1 = segmentFiles()
    await db.compact() // inputs1 retired at an LSN above both snapshots
    const young = db.snapshot()
    await fill(db, 50, 4)
    const inputs2 = segmentFiles().filter((f) => !inputs1.includes(f))
    await db.compact() // inputs2 retired above all three
    const gone = (fs: string[]) => fs.every((f) => !existsSync(join(dir, f)))
    const kept = (fs: string[]) => fs.every((f) => existsSync(join(dir, f)))
    middle.release()
    expect(kept(inputs1) && kept(inputs2)).toBe(true)
    old.release()
    expect(gone(inputs1)).toBe(true) // the oldest left is `young`, above inputs1's LSN
    expect(kept(inputs2)).toBe(true)
    for (let k = 0; k < 50; k++) expect(young.get(k)).toEqual(v(k, 3))
    young.release()
    expect(gone(inputs2)).toBe(true)
    expect(segmentFiles().length).toBe(db.stats().segments)
    await db.close()
  })

  it('close deletes the retained segments; the store reopens with the latest state', async () => {
    const db = await AlexStorage.open(dir, OPTIONS)
    await fill(db, 100, 1)
    const snap = db.snapshot()
    await fill(db, 100, 2)
    await db.compact()
    expect(internals(db).checkpointer.retention.retained).toBeGreaterThan(0)
    const retained = internals(db).checkpointer.retention.retained
    const before = segmentFiles().length
    await db.close()
    expect(segmentFiles().length).toBe(before - retained)
    expect(snap.released).toBe(true)
    expect(() => snap.get(1)).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
    snap.release() // still idempotent
    const again = await AlexStorage.open(dir, OPTIONS)
    expect(segmentFiles().length).toBe(again.stats().segments)
    for (let k = 0; k < 100; k++) expect(again.get(k)).toEqual(v(k, 2))
    await again.close()
  })

  it('automatic compaction does not loop while segments are retained', async () => {
    const db = await AlexStorage.open(dir, {
      ...OPTIONS,
      autoCompaction: true,
      compactionMinBytes: 4096,
      compactionThreshold: 0.5,
    })
    await fill(db, 100, 1)
    const snap = db.snapshot()
    for (let round = 2; round < 6; round++) await fill(db, 100, round)
    await vi.waitFor(() => expect(db.stats().compactions).toBeGreaterThan(0), WAIT)
    await db.checkpoint() // waits for maintenance in flight
    const compactions = db.stats().compactions
    expect(db.stats().deadBytes).toBeLessThan(db.stats().liveBytes) // nothing left to reclaim
    await db.checkpoint()
    expect(db.stats().compactions).toBe(compactions)
    for (let k = 0; k < 100; k++) expect(snap.get(k)).toEqual(v(k, 1))
    snap.release()
    await db.close()
  })
})

describe('memory: what changed since the oldest snapshot', () => {
  it('records nothing without a snapshot, one entry per change with one, none after release', async () => {
    const db = await AlexStorage.open(dir, OPTIONS)
    await fill(db, 10, 1)
    expect(internals(db).history.size).toBe(0)
    const snap = db.snapshot()
    for (let r = 2; r < 7; r++) await fill(db, 10, r)
    await db.delete(100) // absent: no change
    expect(internals(db).history.size).toBe(50)
    expect(internals(db).history.keyCount).toBe(10)
    const second = db.snapshot()
    await fill(db, 10, 7)
    snap.release() // the changes only `snap` needed go
    expect(internals(db).history.size).toBe(10)
    second.release()
    expect(internals(db).history.size).toBe(0)
    expect(internals(db).history.recording).toBe(false)
    await fill(db, 10, 8)
    expect(internals(db).history.size).toBe(0)
    await db.close()
  })
})

describe('release', () => {
  it('release and Symbol.dispose are idempotent; reads after them throw ERR_SNAPSHOT_RELEASED', async () => {
    const db = await AlexStorage.open(dir, OPTIONS)
    await db.put(1, v(1, 1))
    await db.put(2, v(2, 1))
    const snap = db.snapshot()
    const it = snap.keys()
    expect(it.next().value).toBe(1) // the first chunk is read: the next step checks again
    snap.release()
    snap.release()
    snap[Symbol.dispose]()
    const released = expect.objectContaining({ code: 'ERR_SNAPSHOT_RELEASED' })
    expect(() => snap.get(1)).toThrow(released)
    expect(() => snap.has(1)).toThrow(released)
    expect(() => snap.entries()).toThrow(released)
    expect(() => snap.keys()).toThrow(released)
    expect(() => snap.values()).toThrow(released)
    expect(() => it.next()).toThrow(released)
    {
      using scoped = db.snapshot()
      expect(scoped.get(1)).toEqual(v(1, 1))
      expect(internals(db).history.openSnapshots).toBe(1)
    }
    expect(internals(db).history.openSnapshots).toBe(0)
    await db.close()
  })

  it('validates like the store: bad keys and ranges; ERR_CLOSED after close', async () => {
    const db = await AlexStorage.open(dir, OPTIONS)
    const snap = db.snapshot()
    expect(() => snap.get(Number.NaN)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_KEY' }))
    expect(() => snap.has('1' as unknown as number)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_KEY' }),
    )
    expect(() => snap.entries({ gt: 1, gte: 2 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
    expect(() => snap.keys({ gtee: 1 } as never)).toThrow(/did you mean 'gte'/)
    const it = snap.entries()
    const closing = db.close()
    const closed = expect.objectContaining({ code: 'ERR_CLOSED' })
    expect(() => it.next()).toThrow(closed)
    expect(() => db.snapshot()).toThrow(closed)
    await closing
    expect(() => db.snapshot()).toThrow(closed)
  })

  it('a snapshot nobody references is released by its finalizer (seam)', async () => {
    const db = await AlexStorage.open(dir, OPTIONS)
    const snap = db.snapshot()
    expect(internals(db).history.openSnapshots).toBe(1)
    // The FinalizationRegistry's callback, with the value it holds (never the snapshot itself).
    releaseCollected((snap as unknown as { held: Parameters<typeof releaseCollected>[0] }).held)
    expect(internals(db).history.openSnapshots).toBe(0)
    expect(snap.released).toBe(true)
    snap.release() // idempotent after the finalizer
    await db.close()
  })

  it('a snapshot dropped without release is released after garbage collection', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const db = await AlexStorage.open(dir, OPTIONS)
    ;(() => {
      db.snapshot() // dropped at once
    })()
    expect(internals(db).history.openSnapshots).toBe(1)
    await vi.waitFor(async () => {
      gc()
      await new Promise((r) => setImmediate(r)) // finalizers run in a later task
      expect(internals(db).history.openSnapshots).toBe(0)
    }, WAIT)
    await db.close()
  })
})
