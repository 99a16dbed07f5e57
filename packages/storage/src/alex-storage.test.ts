import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { tempDir, valueFor } from '../test/helpers.js'
import { AlexStorage } from './alex-storage.js'

/** How long to wait for background work (checkpoints, compactions) before failing. */
const WAIT = { timeout: 120_000, interval: 10 } // condition waits; generous for a loaded CI

let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir())
})
afterEach(() => cleanup())

const bytes = (...b: number[]) => new Uint8Array(b)

/** Every file of the store and its bytes, to prove an operation changed nothing on disk. */
function diskImage(root: string): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else out.set(p, readFileSync(p).toString('hex'))
    }
  }
  walk(root)
  return out
}

describe('AlexStorage basics', () => {
  it('puts, gets, deletes and overwrites', async () => {
    const db = await AlexStorage.open(dir)
    expect(db.get(1)).toBeUndefined()
    await db.put(1, bytes(1, 2, 3))
    await db.put(2.5, bytes())
    await db.put(-7, bytes(9))
    expect(db.get(1)).toEqual(bytes(1, 2, 3))
    expect(db.get(2.5)).toEqual(bytes())
    expect(db.has(-7)).toBe(true)
    await db.put(1, bytes(4))
    expect(db.get(1)).toEqual(bytes(4))
    await db.delete(1)
    await db.delete(12345) // absent: fine
    expect(db.get(1)).toBeUndefined()
    expect(db.has(1)).toBe(false)
    expect(db.size).toBe(2)
    await db.close()
  })

  it('treats -0 and 0 as one key', async () => {
    const db = await AlexStorage.open(dir)
    await db.put(-0, bytes(1))
    expect(db.get(0)).toEqual(bytes(1))
    await db.put(0, bytes(2))
    expect(db.get(-0)).toEqual(bytes(2))
    expect([...db.keys()]).toEqual([0])
    expect(Object.is([...db.keys()][0], 0)).toBe(true)
    await db.delete(-0)
    expect(db.size).toBe(0)
    await db.close()
  })

  it('copies the value at the call and returns views that stay valid', async () => {
    const db = await AlexStorage.open(dir)
    const mine = bytes(1, 2, 3)
    const p = db.put(5, mine)
    mine[0] = 99 // the caller reuses its buffer before the write is durable
    await p
    const a = db.get(5)!
    const b = db.get(5)!
    expect(a).toEqual(bytes(1, 2, 3))
    expect(a.buffer).toBe(b.buffer) // zero-copy views of the same cached image
    await db.put(5, bytes(7, 7))
    expect(a).toEqual(bytes(1, 2, 3)) // the old view is untouched by the overwrite
    await db.compact()
    expect(a).toEqual(bytes(1, 2, 3)) // ... and by a compaction that deleted its segment
    expect(db.get(5)).toEqual(bytes(7, 7))
    await db.close()
  })

  it('makes a write visible only once it is durable', async () => {
    const db = await AlexStorage.open(dir)
    await db.put(1, bytes(1))
    const p = db.put(1, bytes(2))
    expect(db.get(1)).toEqual(bytes(1))
    await p
    expect(db.get(1)).toEqual(bytes(2))
    await db.close()
  })

  it('applies a batch atomically and validates it whole first', async () => {
    const db = await AlexStorage.open(dir)
    await db.put(1, bytes(1))
    const p = db.batch([
      { type: 'put', key: 2, value: bytes(2) },
      { type: 'delete', key: 1 },
      { type: 'put', key: 2, value: bytes(3) },
    ])
    expect(db.get(1)).toEqual(bytes(1))
    expect(db.has(2)).toBe(false)
    await p
    expect(db.has(1)).toBe(false)
    expect(db.get(2)).toEqual(bytes(3))
    await db.batch([])
    const before = db.stats().lsn
    await expect(
      db.batch([
        { type: 'put', key: 3, value: bytes(3) },
        { type: 'put', key: Number.NaN, value: bytes(4) },
      ]),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' })
    await expect(db.batch([{ type: 'put', key: 3, value: 'x' as never }])).rejects.toMatchObject({
      code: 'ERR_INVALID_VALUE',
    })
    await expect(db.batch([{ type: 'merge', key: 3 } as never])).rejects.toMatchObject({
      code: 'ERR_INVALID_OP',
    })
    await expect(db.batch([null as never])).rejects.toMatchObject({ code: 'ERR_INVALID_OP' })
    await expect(db.batch('nope' as never)).rejects.toMatchObject({ code: 'ERR_INVALID_OP' })
    expect(db.has(3)).toBe(false)
    expect(db.stats().lsn).toBe(before)
    await db.close()
  })

  it('iterates in order with every range option', async () => {
    const db = await AlexStorage.open(dir)
    const keys = Array.from({ length: 700 }, (_, i) => i * 2 - 300)
    await db.batch(keys.map((k) => ({ type: 'put' as const, key: k, value: valueFor(k, 1, 3) })))
    expect([...db.keys()]).toEqual(keys)
    expect([...db.keys({ reverse: true })]).toEqual([...keys].reverse())
    expect([...db.keys({ gt: 0, lte: 10 })]).toEqual([2, 4, 6, 8, 10])
    expect([...db.keys({ gte: 0, lt: 10, reverse: true })]).toEqual([8, 6, 4, 2, 0])
    expect([...db.keys({ gt: -300, limit: 3 })]).toEqual([-298, -296, -294])
    expect([...db.keys({ limit: 0 })]).toEqual([])
    expect([...db.keys({ gte: 1, limit: 600 })]).toEqual(keys.filter((k) => k >= 1).slice(0, 600))
    expect([...db.keys({ lt: 1, limit: 300, reverse: true })]).toEqual(
      keys
        .filter((k) => k < 1)
        .reverse()
        .slice(0, 300),
    )
    const entries = [...db.entries({ gte: 100, lt: 106 })]
    expect(entries).toEqual([
      [100, valueFor(100, 1, 3)],
      [102, valueFor(102, 1, 3)],
      [104, valueFor(104, 1, 3)],
    ])
    expect([...db.values({ gt: 100, lte: 102 })]).toEqual([valueFor(102, 1, 3)])
    expect(() => db.keys({ gt: 1, gte: 2 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
    await db.close()
  })

  it('lets writes land during an iteration without repeating or skipping unchanged keys', async () => {
    const db = await AlexStorage.open(dir)
    await db.batch(
      Array.from({ length: 1000 }, (_, i) => ({ type: 'put' as const, key: i, value: bytes(1) })),
    )
    const seen: number[] = []
    const writes: Promise<void>[] = []
    for (const k of db.keys()) {
      seen.push(k)
      if (k === 300) {
        writes.push(db.delete(299), db.delete(700), db.put(5000, bytes(2)))
        await Promise.all(writes)
      }
    }
    expect(seen.length).toBe(1000) // 700 gone, 5000 added
    expect(seen.includes(700)).toBe(false)
    expect(seen.includes(5000)).toBe(true)
    expect(seen.includes(299)).toBe(true) // already passed
    expect(new Set(seen).size).toBe(seen.length)
    await db.close()
  })

  it('rejects bad input with typed errors and writes nothing', async () => {
    const db = await AlexStorage.open(dir, { maxValueBytes: 10 })
    await db.put(1, bytes(1))
    await db.checkpoint()
    const image = diskImage(dir)
    const lsn = db.stats().lsn
    for (const key of [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      '1',
      1n,
      undefined,
      null,
    ]) {
      await expect(db.put(key as never, bytes(1))).rejects.toMatchObject({
        code: 'ERR_INVALID_KEY',
      })
      await expect(db.delete(key as never)).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' })
      expect(() => db.get(key as never)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_KEY' }),
      )
      expect(() => db.has(key as never)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_KEY' }),
      )
    }
    for (const value of ['abc', [1, 2], new ArrayBuffer(2), undefined, null, 5]) {
      await expect(db.put(2, value as never)).rejects.toMatchObject({ code: 'ERR_INVALID_VALUE' })
    }
    await expect(db.put(2, new Uint8Array(11))).rejects.toMatchObject({
      code: 'ERR_VALUE_TOO_LARGE',
    })
    await expect(
      db.batch([{ type: 'put', key: 2, value: new Uint8Array(11) }]),
    ).rejects.toMatchObject({ code: 'ERR_VALUE_TOO_LARGE' })
    await db.put(3, new Uint8Array(10)) // the limit itself is fine
    await db.delete(3)
    expect(db.stats().lsn).toBe(lsn + 2)
    await db.close()
    // The rejected calls left no trace: only the two accepted writes (and the close) changed files.
    const db2 = await AlexStorage.open(dir)
    expect([...db2.keys()]).toEqual([1])
    await db2.close()
    expect(image.size).toBeGreaterThan(0)
  })

  it('rejects bad options and a bad dir', async () => {
    await expect(AlexStorage.open(dir, { sync: 'maybe' as never })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
    await expect(AlexStorage.open('')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(AlexStorage.open(join(dir, 'missing'), { readOnly: true })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
  })

  it('refuses every call after close with ERR_CLOSED, and close is idempotent', async () => {
    const db = await AlexStorage.open(dir)
    await db.put(1, bytes(1))
    const closing = db.close()
    expect(db.close()).toBe(closing)
    await closing
    await expect(db.put(1, bytes(1))).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    await expect(db.delete(1)).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    await expect(db.batch([])).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    await expect(db.checkpoint()).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    await expect(db.compact()).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    await expect(db.sync()).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    expect(() => db.get(1)).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
    expect(() => db.has(1)).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
    expect(() => db.entries()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
    expect(() => db.keys()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
    expect(() => db.values()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
    expect(() => db.stats()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
  })

  it('settles every pending write when closed, and keeps them', async () => {
    const db = await AlexStorage.open(dir)
    const writes: Promise<void>[] = []
    for (let i = 0; i < 200; i++) writes.push(db.put(i, valueFor(i, 1, 20)))
    writes.push(db.batch([{ type: 'delete', key: 0 }]))
    const closed = db.close()
    const late = db.put(1000, bytes(1)).catch((err: unknown) => err)
    const results = await Promise.allSettled(writes)
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
    expect(await late).toMatchObject({ code: 'ERR_CLOSED' })
    await closed
    const db2 = await AlexStorage.open(dir)
    expect(db2.size).toBe(199)
    expect(db2.get(150)).toEqual(valueFor(150, 1, 20))
    expect(db2.recovery.source).toBe('snapshot')
    expect(db2.recovery.replayed).toBe(0) // close checkpointed
    await db2.close()
  })

  it('sync() makes every write issued so far durable and applied, without a checkpoint', async () => {
    const db = await AlexStorage.open(dir, { sync: 'none' })
    const fsyncs = db.stats().wal.fsyncs
    // Not awaited: sync() covers writes still in flight, and applies them.
    void db.put(1, bytes(1))
    void db.batch([
      { type: 'put', key: 2, value: bytes(2) },
      { type: 'delete', key: 1 },
    ])
    await db.sync()
    expect(db.get(1)).toBeUndefined()
    expect(db.get(2)).toEqual(bytes(2))
    const s = db.stats()
    expect(s.wal.fsyncs).toBe(fsyncs + 1)
    expect(s.wal.lastDurableLsn).toBe(3)
    expect(s.checkpoints).toBe(0)
    await db.sync() // nothing new: still resolves
    await db.close()
  })

  it('sync() on a read-only store is ERR_READ_ONLY', async () => {
    const db = await AlexStorage.open(dir)
    await db.put(1, bytes(1))
    await db.close()
    const ro = await AlexStorage.open(dir, { readOnly: true })
    await expect(ro.sync()).rejects.toMatchObject({ code: 'ERR_READ_ONLY' })
    await ro.close()
  })

  it('groups concurrent durable writes into few fsyncs', async () => {
    const db = await AlexStorage.open(dir)
    const before = db.stats().wal.fsyncs
    await Promise.all(Array.from({ length: 256 }, (_, i) => db.put(i, valueFor(i, 1, 128))))
    const fsyncs = db.stats().wal.fsyncs - before
    expect(fsyncs).toBeGreaterThan(0)
    expect(fsyncs).toBeLessThan(32)
    await db.close()
  })

  it('reports stats', async () => {
    const db = await AlexStorage.open(dir)
    await db.put(1, new Uint8Array(75)) // a 100-byte record
    await db.put(2, new Uint8Array(75))
    await db.put(1, new Uint8Array(75))
    await db.delete(2) // a 25-byte tombstone
    let s = db.stats()
    expect(s).toMatchObject({ keys: 1, liveBytes: 100, deadBytes: 225, segments: 1, lsn: 4 })
    expect(s.walBytes).toBeGreaterThan(300)
    expect(s.fsyncs).toBeGreaterThan(0)
    expect(s.index.totalKeys).toBe(1)
    await db.checkpoint()
    await db.compact()
    s = db.stats()
    expect(s).toMatchObject({
      keys: 1,
      liveBytes: 100,
      deadBytes: 0,
      checkpoints: 2,
      compactions: 1,
    })
    expect(s.checkpointLsn).toBe(4)
    await db.close()
    const db2 = await AlexStorage.open(dir)
    expect(db2.stats()).toMatchObject({ keys: 1, liveBytes: 100, deadBytes: 0, compactions: 1 })
    await db2.close()
  })
})

describe('AlexStorage durability across reopen', () => {
  it('recovers writes from the log after a close without checkpoint data', async () => {
    const db = await AlexStorage.open(dir, { sync: 'none' })
    for (let i = 0; i < 100; i++) await db.put(i, valueFor(i, 2, 30))
    await db.batch([
      { type: 'delete', key: 5 },
      { type: 'put', key: 1000, value: bytes(1) },
    ])
    await db.close()
    const db2 = await AlexStorage.open(dir)
    expect(db2.size).toBe(100)
    expect(db2.get(5)).toBeUndefined()
    expect(db2.get(99)).toEqual(valueFor(99, 2, 30))
    await db2.close()
  })

  it('checkpoints by itself per the record and byte policies', async () => {
    const db = await AlexStorage.open(dir, { checkpointRecords: 50, sync: 'none' })
    for (let i = 0; i < 120; i++) await db.put(i, bytes(i & 255))
    await db.put(1000, bytes(1)) // lets the scheduled checkpoints run
    // They run in the background: wait for them (fsyncs can take long on a loaded machine).
    await vi.waitFor(() => expect(db.stats().checkpoints).toBeGreaterThanOrEqual(2), WAIT)
    await db.close()
    const db2 = await AlexStorage.open(dir, { checkpointBytes: 2000, sync: 'none' })
    const before = db2.stats().checkpoints
    for (let i = 0; i < 40; i++) await db2.put(i, new Uint8Array(100))
    await vi.waitFor(() => expect(db2.stats().checkpoints).toBeGreaterThan(before), WAIT)
    await db2.close()
  })

  it('compacts by itself past the dead-bytes threshold and keeps every value', async () => {
    const db = await AlexStorage.open(dir, {
      sync: 'none',
      segmentBytes: 4096,
      compactionThreshold: 0.5,
      compactionMinBytes: 4000,
    })
    for (let round = 0; round < 6; round++) {
      await db.batch(
        Array.from({ length: 50 }, (_, i) => ({
          type: 'put' as const,
          key: i,
          value: valueFor(i, round, 60),
        })),
      )
    }
    // Compactions run in the background until the dead bytes are below the threshold again.
    await vi.waitFor(() => {
      const s = db.stats()
      expect(s.compactions).toBeGreaterThanOrEqual(1)
      expect(s.deadBytes).toBeLessThan(s.liveBytes + 4000)
    }, WAIT)
    for (let i = 0; i < 50; i++) expect(db.get(i)).toEqual(valueFor(i, 5, 60))
    await db.close()
  })

  it('keeps reads and writes working during a compaction', async () => {
    const db = await AlexStorage.open(dir, {
      sync: 'none',
      segmentBytes: 64 * 1024,
      autoCompaction: false,
    })
    const n = 20_000
    for (let start = 0; start < n; start += 1000) {
      await db.batch(
        Array.from({ length: 1000 }, (_, i) => ({
          type: 'put' as const,
          key: start + i,
          value: valueFor(start + i, 1, 40),
        })),
      )
    }
    for (let k = 0; k < n; k += 2) await db.delete(k)
    const compaction = db.compact()
    let during = 0
    let done = false
    compaction.then(() => {
      done = true
    })
    while (!done && during < n / 2) {
      const k = 1 + 2 * during
      expect(db.get(k)).toEqual(valueFor(k, 1, 40))
      await db.put(k, valueFor(k, 2, 40))
      during++
    }
    await compaction
    expect(during).toBeGreaterThan(1) // the compaction yielded to the writes
    for (let k = 0; k < n; k++) {
      const expected = k % 2 === 0 ? undefined : valueFor(k, (k - 1) / 2 < during ? 2 : 1, 40)
      expect(db.get(k)).toEqual(expected)
    }
    const s = db.stats()
    expect(s.compactions).toBe(1)
    await db.close()
    const db2 = await AlexStorage.open(dir)
    expect(db2.size).toBe(n / 2)
    expect(db2.get(1)).toEqual(valueFor(1, 2, 40))
    await db2.close()
  })
})

describe('AlexStorage lock and read-only', () => {
  it('refuses a second writer in the same process, allows it after close', async () => {
    const db = await AlexStorage.open(dir)
    await expect(AlexStorage.open(dir)).rejects.toMatchObject({ code: 'ERR_LOCKED' })
    await db.close()
    const again = await AlexStorage.open(dir)
    await again.close()
  })

  it('opens read-only next to a live writer, sees its durable writes, changes nothing', async () => {
    const writer = await AlexStorage.open(dir)
    await writer.put(1, bytes(1))
    await writer.checkpoint()
    await writer.put(2, bytes(2)) // only in the log
    const image = diskImage(dir)
    const reader = await AlexStorage.open(dir, { readOnly: true })
    expect(reader.get(1)).toEqual(bytes(1))
    expect(reader.get(2)).toEqual(bytes(2))
    await expect(reader.put(3, bytes(3))).rejects.toMatchObject({ code: 'ERR_READ_ONLY' })
    await expect(reader.delete(1)).rejects.toMatchObject({ code: 'ERR_READ_ONLY' })
    await expect(reader.batch([])).rejects.toMatchObject({ code: 'ERR_READ_ONLY' })
    await expect(reader.checkpoint()).rejects.toMatchObject({ code: 'ERR_READ_ONLY' })
    await expect(reader.compact()).rejects.toMatchObject({ code: 'ERR_READ_ONLY' })
    await reader.close()
    expect(diskImage(dir)).toEqual(image)
    await writer.close()
  })
})

describe('AlexStorage bigger than its cache', () => {
  it('reads values from disk when their segment is not resident', async () => {
    const n = 3000
    let db = await AlexStorage.open(dir, {
      cacheBytes: 64 * 1024,
      segmentBytes: 16 * 1024,
      sync: 'none',
    })
    for (let start = 0; start < n; start += 500) {
      await db.batch(
        Array.from({ length: 500 }, (_, i) => ({
          type: 'put' as const,
          key: start + i,
          value: valueFor(start + i, 1, 100),
        })),
      )
    }
    for (let k = 0; k < n; k += 3) await db.put(k, valueFor(k, 2, 100)) // overwrites of cold records
    for (let k = 0; k < n; k++) expect(db.get(k)).toEqual(valueFor(k, k % 3 === 0 ? 2 : 1, 100))
    let s = db.stats()
    expect(s.liveBytes).toBeGreaterThan(4 * 64 * 1024)
    expect(s.cache.residentBytes).toBeLessThanOrEqual(64 * 1024 + 16 * 1024)
    expect(s.cache.diskReads).toBeGreaterThan(0)
    expect(s.cache.evictions).toBeGreaterThan(0)
    await db.close()
    db = await AlexStorage.open(dir, { cacheBytes: 32 * 1024, segmentBytes: 16 * 1024 })
    for (let k = n - 1; k >= 0; k--)
      expect(db.get(k)).toEqual(valueFor(k, k % 3 === 0 ? 2 : 1, 100))
    expect([...db.values({ gte: 100, lt: 103 })]).toEqual(
      [100, 101, 102].map((k) => valueFor(k, k % 3 === 0 ? 2 : 1, 100)),
    )
    s = db.stats()
    expect(s.cache.residentBytes).toBeLessThanOrEqual(32 * 1024)
    expect(s.cache.diskReads).toBeGreaterThan(n / 2)
    await db.compact()
    for (let k = 0; k < n; k += 7) expect(db.get(k)).toEqual(valueFor(k, k % 3 === 0 ? 2 : 1, 100))
    await db.close()
  })
})
