import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type ChangeFeeds, FEED_CHUNK } from '../src/change-feed.js'
import { AlexStorage, type AlexStorageOptions, type Change } from '../src/index.js'
import type { LogRetention } from '../src/log-retention.js'
import { rng, tempDir, valueFor } from './helpers.js'
import { LsnModel, type LsnOp } from './lsn-model.js'

/**
 * The change feed: every operation after an LSN, in order, then the live ones; resumable from
 * any delivered LSN without a gap or a repeat (checked against a model of every write by LSN);
 * trimmed positions refused with the oldest LSN; batches as consecutive LSNs; close ends it; a
 * slow consumer makes the writer buffer nothing.
 */

const { dir: root, cleanup } = tempDir('alex-feed-')
afterAll(() => cleanup())
let n = 0
const fresh = (name: string) => join(root, `${name}-${n++}`)

/** Checks that `got` is exactly the model's changes from `from` on, in order. */
function expectSequence(got: Change[], model: LsnModel, from: number): void {
  for (let i = 0; i < got.length; i++) {
    const want = model.change(from + i)
    const c = got[i]!
    if (
      c.lsn !== want.lsn ||
      c.type !== want.type ||
      c.key !== want.key ||
      c.last !== want.last ||
      (want.value === undefined
        ? c.value !== undefined
        : c.value === undefined || !Buffer.from(c.value).equals(Buffer.from(want.value)))
    ) {
      throw new Error(
        `change ${i}: got ${JSON.stringify({ ...c, value: c.value?.length })}, ` +
          `want ${JSON.stringify({ ...want, value: want.value?.length })}`,
      )
    }
  }
}

function feedsOf(db: AlexStorage): { feeds: ChangeFeeds; retention: LogRetention } {
  const inner = db as unknown as { changeFeeds: ChangeFeeds; logRetention: LogRetention }
  return { feeds: inner.changeFeeds, retention: inner.logRetention }
}

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setImmediate(r))
}

/**
 * Small log segments and frequent checkpoints: the log is trimmed often. No fsync per write
 * (`sync: 'none'`: a write is visible once the log has it), for speed; the feed is the same.
 */
const CHURN: AlexStorageOptions = {
  sync: 'none',
  segmentBytes: 64 * 1024,
  walSegmentBytes: 4096,
  checkpointRecords: 200,
}

describe('changes()', () => {
  it('delivers every change after since in LSN order, batches as consecutive LSNs, copies', async () => {
    const db = await AlexStorage.open(fresh('basic'))
    const holds = feedsOf(db).retention.size // the store's own (readers')
    const model = new LsnModel(db)
    await model.put(1, new Uint8Array([1]))
    await model.put(2, new Uint8Array([2, 2]))
    await model.delete(1)
    await model.batch([
      { key: 3, value: new Uint8Array([3]) },
      { key: 2, value: undefined },
      { key: 4, value: new Uint8Array(0) },
    ])
    const got: Change[] = []
    for await (const c of db.changes({ since: 0 })) {
      got.push(c)
      if (c.lsn === 6) break
    }
    expectSequence(got, model, 1)
    expect(got.map((c) => c.lsn)).toEqual([1, 2, 3, 4, 5, 6])
    // `last` marks the end of each atomic write: lone writes, and the batch's final operation.
    expect(got.map((c) => c.last)).toEqual([true, true, true, false, false, true])
    expect('value' in got[2]!).toBe(false) // a delete has no value
    // Values are copies: their own memory, not a view of the log's or the store's.
    const v = got[1]!.value!
    expect(v.byteOffset).toBe(0)
    expect(v.buffer.byteLength).toBe(v.length)
    v[0] = 99
    expect(db.get(2)).toBeUndefined() // deleted by the batch; and the copy changed nothing else
    expect(feedsOf(db).feeds.size).toBe(0) // break ended it
    expect(feedsOf(db).retention.size).toBe(holds) // and released its hold
    await db.close()
  })

  it('by default starts at the current LSN, then follows live writes as they become visible', async () => {
    const db = await AlexStorage.open(fresh('live'))
    const model = new LsnModel(db)
    for (let k = 0; k < 20; k++) await model.put(k, valueFor(k, 0, 10))
    const feed = db.changes()
    const first = feed.next() // nothing yet: waits
    await model.put(100, valueFor(100, 1, 30))
    const { value } = await first
    expectSequence([value as Change], model, 21)
    // Concurrent writers: each change becomes available once applied.
    const writes = Array.from({ length: 50 }, (_, i) => model.put(200 + i, valueFor(i, 2, 5)))
    const got: Change[] = []
    while (got.length < 50) got.push((await feed.next()).value as Change)
    await Promise.all(writes)
    expectSequence(got, model, 22)
    await feed.return!()
    await db.close()
  })

  it('never shows a change before it is visible', async () => {
    const db = await AlexStorage.open(fresh('visible'))
    const feed = db.changes()
    const checks: Promise<void>[] = []
    for (let i = 0; i < 200; i++) checks.push(db.put(i, new Uint8Array([i & 255])))
    for (let i = 0; i < 200; i++) {
      const c = (await feed.next()).value as Change
      expect(db.stats().lsn).toBeGreaterThanOrEqual(c.lsn)
      expect(db.get(c.key)).toBeDefined()
    }
    await Promise.all(checks)
    await feed.return!()
    await db.close()
  })

  it("a consumer stopped and resumed at random points sees exactly the writer's sequence", async () => {
    // Retention by size keeps the log for the consumer between its runs; while a run is open its
    // own hold keeps what it needs, through checkpoints every 200 operations.
    const db = await AlexStorage.open(fresh('resume'), { ...CHURN, logRetainBytes: 64 << 20 })
    const model = new LsnModel(db)
    const random = rng(11)
    let stop = false
    const writer = async (w: number) => {
      for (let v = 0; !stop; v++) {
        const key = w + 4 * Math.floor(random() * 100)
        const r = random()
        if (r < 0.6) await model.put(key, valueFor(key, v, 1 + Math.floor(random() * 200)))
        else if (r < 0.8) await model.delete(key)
        else {
          const ops: LsnOp[] = []
          for (let i = 0; i < 2 + Math.floor(random() * 6); i++) {
            const k = w + 4 * Math.floor(random() * 100)
            ops.push({ key: k, value: random() < 0.7 ? valueFor(k, v, 50) : undefined })
          }
          await model.batch(ops)
        }
      }
    }
    const writers = Array.from({ length: 4 }, (_, w) => writer(w))
    const seen: Change[] = []
    let position = 0
    for (let run = 0; run < 40; run++) {
      const take = 1 + Math.floor(random() * 300)
      let taken = 0
      for await (const c of db.changes({ since: position })) {
        seen.push(c)
        position = c.lsn
        if (++taken === take) break
      }
      // Stopped: the writers go on without a consumer for a while (a condition, not a sleep).
      const target = model.lastLsn + Math.floor(random() * 400)
      await waitFor(() => db.stats().lsn >= target)
    }
    stop = true
    await Promise.all(writers)
    for await (const c of db.changes({ since: position })) {
      seen.push(c)
      if (c.lsn === model.lastLsn) break
    }
    expect(seen.length).toBe(model.lastLsn)
    expectSequence(seen, model, 1)
    expect(db.stats().checkpoints).toBeGreaterThan(10)
    await db.close()
  })

  it('holds the log while open: a slow consumer is not trimmed by checkpoints', async () => {
    const db = await AlexStorage.open(fresh('hold'), CHURN) // no size or age retention
    const model = new LsnModel(db)
    const feed = db.changes({ since: 0 })
    await model.put(0, valueFor(0, 0, 100))
    const first = (await feed.next()).value as Change
    const checkpoints = db.stats().checkpoints
    for (let i = 1; i < 3000; i++) await model.put(i % 97, valueFor(i, i, 100))
    await db.checkpoint()
    expect(db.stats().checkpoints).toBeGreaterThan(checkpoints + 5)
    expect(db.stats().wal.segmentsDeleted).toBe(0) // everything after the consumer is held
    // The writer buffered nothing for the feed: only what its last pull read (< one chunk).
    expect(feedsOf(db).feeds.buffered).toBeLessThanOrEqual(FEED_CHUNK)
    const got = [first]
    while (got.length < 3000) got.push((await feed.next()).value as Change)
    expectSequence(got, model, 1)
    await feed.return!()
    // Released: the next checkpoint may delete what the consumer held.
    await model.put(5000, new Uint8Array(1))
    await db.checkpoint()
    expect(db.stats().wal.segmentsDeleted).toBeGreaterThan(0)
    await db.close()
  })

  it('a slow consumer makes the writer buffer nothing per change', async () => {
    const db = await AlexStorage.open(fresh('slow'), { sync: 'none' })
    const { feeds } = feedsOf(db)
    const feed = db.changes()
    const waiting = feed.next()
    await db.put(1, new Uint8Array(10))
    await waiting
    for (let i = 0; i < 5000; i++) await db.put(i, new Uint8Array(50))
    // 5000 changes later: nothing queued for the feed anywhere (it reads the log when asked).
    expect(feeds.buffered).toBe(0)
    expect(feeds.size).toBe(1)
    let count = 0
    while (count < 5000) {
      await feed.next()
      count++
      expect(feeds.buffered).toBeLessThanOrEqual(FEED_CHUNK)
    }
    await feed.return!()
    await db.close()
  })

  it('rejects the first next() with ERR_LSN_TRIMMED and the oldest LSN when since is gone', async () => {
    const db = await AlexStorage.open(fresh('trimmed'), CHURN)
    const holds = feedsOf(db).retention.size // the store's own (readers')
    const model = new LsnModel(db)
    for (let i = 0; i < 2000; i++) await model.put(i % 50, valueFor(i, i, 100))
    await db.checkpoint()
    expect(db.stats().wal.segmentsDeleted).toBeGreaterThan(0)
    const feed = db.changes({ since: 0 })
    const err = await feed.next().then(
      () => undefined,
      (e: { code: string; oldestLsn: number }) => e,
    )
    expect(err?.code).toBe('ERR_LSN_TRIMMED')
    expect(err?.oldestLsn).toBeGreaterThan(1)
    expect(await feed.next()).toEqual({ done: true, value: undefined }) // the feed ended
    expect(feedsOf(db).retention.size).toBe(holds)
    // From the oldest LSN still held on, everything is there.
    const oldest = err!.oldestLsn
    for (let i = 0; i < 10; i++) await model.put(i, valueFor(i, -1, 10))
    const got: Change[] = []
    for await (const c of db.changes({ since: oldest - 1 })) {
      got.push(c)
      if (c.lsn === model.lastLsn) break
    }
    expectSequence(got, model, oldest)
    await db.close()
  })

  it('ends cleanly when the store closes, waiting or not', async () => {
    const db = await AlexStorage.open(fresh('close'))
    const holds = feedsOf(db).retention.size // the store's own (readers')
    await db.put(1, new Uint8Array([1]))
    const waiting = db.changes()
    const pending = waiting.next()
    const idle = db.changes({ since: 0 })
    const loop = (async () => {
      const got: number[] = []
      for await (const c of db.changes({ since: 0 })) got.push(c.lsn)
      return got
    })()
    await waitFor(() => feedsOf(db).feeds.size === 3)
    await db.close()
    expect(await pending).toEqual({ done: true, value: undefined })
    expect(await idle.next()).toEqual({ done: true, value: undefined })
    expect(await loop).toEqual([1])
    expect(feedsOf(db).retention.size).toBe(holds)
    expect(() => db.changes()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
  })

  it('validates its options, and ends after limit changes', async () => {
    const db = await AlexStorage.open(fresh('options'))
    const holds = feedsOf(db).retention.size // the store's own (readers')
    for (let i = 0; i < 10; i++) await db.put(i, new Uint8Array([i]))
    for (const bad of [
      { since: 11 },
      { since: -1 },
      { since: 1.5 },
      { limit: -1 },
      { limit: 0.5 },
      { sinse: 1 },
      'x',
    ]) {
      expect(() => db.changes(bad as never), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      )
    }
    const got: number[] = []
    for await (const c of db.changes({ since: 2, limit: 5 })) got.push(c.lsn)
    expect(got).toEqual([3, 4, 5, 6, 7])
    const none: number[] = []
    for await (const c of db.changes({ since: 0, limit: 0 })) none.push(c.lsn)
    expect(none).toEqual([])
    expect(feedsOf(db).retention.size).toBe(holds)
    await db.close()
    for (const bad of [{ logRetainBytes: -1 }, { logRetainMs: 1.5 }, { logRetainByte: 1 }]) {
      await expect(AlexStorage.open(fresh('bad'), bad as never)).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      })
    }
  })

  it('resumes across a reopen when the log is retained (logRetainBytes), and on a read-only store', async () => {
    const dir = fresh('reopen')
    const db = await AlexStorage.open(dir, { ...CHURN, logRetainBytes: 1 << 30 })
    const model = new LsnModel(db)
    for (let i = 0; i < 500; i++) await model.put(i % 30, valueFor(i, i, 60))
    await db.close()
    const again = await AlexStorage.open(dir, { ...CHURN, logRetainBytes: 1 << 30 })
    const got: Change[] = []
    for await (const c of again.changes({ since: 0, limit: 500 })) got.push(c)
    expectSequence(got, model, 1)
    await again.close()
    const ro = await AlexStorage.open(dir, { readOnly: true })
    const fromRo: Change[] = []
    for await (const c of ro.changes({ since: 100, limit: 400 })) fromRo.push(c)
    expectSequence(fromRo, model, 101)
    await ro.close()
  })

  it('on a backup copy, the changes up to its LSN are not in its fresh log: trimmed, not skipped', async () => {
    const db = await AlexStorage.open(fresh('copy-src'))
    for (let i = 0; i < 20; i++) await db.put(i, new Uint8Array([i]))
    const dest = fresh('copy')
    const { lsn } = await db.backup(dest)
    await db.close()
    const copy = await AlexStorage.open(dest)
    const err = await copy
      .changes({ since: 5 })
      .next()
      .then(
        () => undefined,
        (e: { code: string; oldestLsn: number }) => e,
      )
    expect(err).toMatchObject({ code: 'ERR_LSN_TRIMMED', oldestLsn: lsn + 1 })
    const feed = copy.changes({ since: lsn })
    await copy.put(100, new Uint8Array([1]))
    expect((await feed.next()).value).toEqual({
      lsn: lsn + 1,
      type: 'put',
      key: 100,
      value: new Uint8Array([1]),
      last: true,
    })
    await copy.close()
  })
})
