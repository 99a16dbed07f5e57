import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { FaultInjectionFileSystem } from '@alex/wal/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { commitChannel } from '../src/events.js'
import {
  AlexStorage,
  type CheckpointMessage,
  type CommitMessage,
  type CompactionMessage,
  channels,
  type FailedMessage,
  type ReaderReloadMessage,
  type RecoveryMessage,
} from '../src/index.js'
import { tempDir, valueFor } from './helpers.js'

/**
 * The store's diagnostics channels (events.ts): each message's fields against what the store
 * reports by other means (stats(), the files, db.recovery), one message per event, the `store`
 * each is about, and nothing published without a subscriber.
 */

let dir: string
let cleanup: () => void
let unsubscribers: (() => void)[] = []
beforeEach(() => {
  ;({ dir, cleanup } = tempDir('alex-events-'))
})
afterEach(() => {
  for (const u of unsubscribers) u()
  unsubscribers = []
  cleanup()
})

/**
 * A message without its `store`, and whether that was `store`: a failed assertion on a message
 * that holds a store would print the whole store (its index and segment images).
 */
function about<T extends { store: AlexStorage }>(store: AlexStorage, m: T | undefined) {
  if (m === undefined) return undefined
  const { store: of, ...rest } = m
  return { ...rest, ours: of === store }
}

/** Collects every message published on `name` until the test ends. */
function listen<T>(name: string): T[] {
  const got: T[] = []
  const fn = (message: unknown) => got.push(message as T)
  subscribe(name, fn)
  unsubscribers.push(() => unsubscribe(name, fn))
  return got
}

describe('diagnostics channels', () => {
  it('names every channel under alexstorage:', () => {
    expect(Object.values(channels).sort()).toEqual([
      'alexstorage:checkpoint',
      'alexstorage:commit',
      'alexstorage:compaction',
      'alexstorage:failed',
      'alexstorage:reader:reload',
      'alexstorage:recovery',
    ])
  })

  it('publishes nothing while a channel has no subscriber', async () => {
    // An own property on the channel object counts calls; deleted after, so the method a
    // subscription switches in (by changing the object's prototype) is not shadowed.
    let published = 0
    const counted = commitChannel as unknown as { publish: (message: unknown) => void }
    counted.publish = () => {
      published++
    }
    try {
      const db = await AlexStorage.open(dir)
      await Promise.all(Array.from({ length: 20 }, (_, k) => db.put(k, valueFor(k, 1, 50))))
      await db.close()
      expect(commitChannel.hasSubscribers).toBe(false)
      expect(published).toBe(0)
    } finally {
      delete (counted as { publish?: unknown }).publish
    }
  })

  it('alexstorage:commit: one message per group write, matching the log stats', async () => {
    const db = await AlexStorage.open(dir)
    const other = await AlexStorage.open(join(dir, 'other'))
    await other.put(1, valueFor(1, 1, 10)) // before the subscription: not seen
    const before = db.stats().wal
    const got = listen<CommitMessage>(channels.commit)
    await Promise.all(Array.from({ length: 64 }, (_, k) => db.put(k, valueFor(k, 1, 100))))
    await db.batch([
      { type: 'put', key: 100, value: valueFor(100, 1, 10) },
      { type: 'delete', key: 3 },
    ])
    await other.put(2, valueFor(2, 1, 10))
    const after = db.stats().wal
    const mine = got.filter((m) => m.store === db)
    expect(got.filter((m) => m.store === other).length).toBe(1)
    expect(got.length).toBe(mine.length + 1)
    expect(mine.reduce((n, m) => n + m.ops, 0)).toBe(66)
    expect(mine.filter((m) => m.ops > 0).length).toBe(after.groupCommits - before.groupCommits)
    expect(mine.reduce((n, m) => n + m.bytes, 0)).toBe(after.bytesWritten - before.bytesWritten)
    for (const m of mine) {
      expect(m.fsyncMs).toBeTypeOf('number') // sync 'always': every group was fdatasynced
      expect(m.fsyncMs).toBeGreaterThanOrEqual(0)
    }
    await other.close()
    await db.close()
  })

  it("alexstorage:commit: fsyncMs undefined for groups not synced (sync 'none')", async () => {
    const db = await AlexStorage.open(dir, { sync: 'none' })
    const got = listen<CommitMessage>(channels.commit)
    await db.put(1, valueFor(1, 1, 10))
    expect(got.map((m) => about(db, m))).toEqual([
      { ours: true, ops: 1, bytes: expect.any(Number), fsyncMs: undefined },
    ])
    await db.sync()
    expect(about(db, got[1])).toEqual({ ours: true, ops: 0, bytes: 0, fsyncMs: expect.any(Number) })
    await db.close()
  })

  it('alexstorage:checkpoint: the LSN and the snapshot file size', async () => {
    const db = await AlexStorage.open(dir)
    for (let k = 0; k < 50; k++) await db.put(k, valueFor(k, 1, 30))
    const got = listen<CheckpointMessage>(channels.checkpoint)
    await db.checkpoint()
    expect(got.length).toBe(1)
    const snapshot = readdirSync(dir).filter((n) => n.endsWith('.snap'))
    expect(snapshot.length).toBe(1)
    expect(about(db, got[0])).toEqual({
      ours: true,
      lsn: db.lsn,
      bytes: statSync(join(dir, snapshot[0]!)).size,
      durationMs: expect.any(Number),
      compaction: false,
    })
    expect(db.stats().checkpointLsn).toBe(got[0]!.lsn)
    await db.close()
  })

  it('alexstorage:compaction: reclaims exactly the dead bytes; its checkpoint is marked', async () => {
    const db = await AlexStorage.open(dir, { segmentBytes: 8192, autoCompaction: false })
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < 100; k++) await db.put(k, valueFor(k, round, 200))
    }
    for (let k = 0; k < 20; k++) await db.delete(k)
    const before = db.stats()
    expect(before.deadBytes).toBeGreaterThan(0)
    const checkpoints = listen<CheckpointMessage>(channels.checkpoint)
    const got = listen<CompactionMessage>(channels.compaction)
    await db.compact()
    expect(got.map((m) => about(db, m))).toEqual([
      {
        ours: true,
        segments: before.segments,
        reclaimedBytes: before.deadBytes,
        copiedBytes: before.liveBytes,
        durationMs: expect.any(Number),
      },
    ])
    expect(checkpoints.map((c) => c.compaction)).toEqual([true])
    expect(db.stats().deadBytes).toBe(0)
    await db.close()
  })

  it('alexstorage:recovery: each open, writer and reader, with its report', async () => {
    const got = listen<RecoveryMessage>(channels.recovery)
    const fs = new FaultInjectionFileSystem()
    const db = await AlexStorage.open('/db', { fs })
    expect(got.length).toBe(1)
    expect(got[0]!.report).toBe(db.recovery)
    expect({ ...about(db, got[0]), report: undefined }).toEqual({
      ours: true,
      readOnly: false,
      source: 'empty',
      replayed: 0,
      durationMs: expect.any(Number),
      repaired: false,
      report: undefined,
    })
    for (let k = 0; k < 5; k++) await db.put(k, valueFor(k, 1, 10))
    const crashed = fs.processCrash() // killed: the log holds the 5 writes, no snapshot does
    await db.close().catch(() => {})
    const again = await AlexStorage.open('/db', { fs: crashed })
    expect(about(again, got[1])).toMatchObject({ ours: true, readOnly: false, replayed: 5 })
    expect(got[1]!.report).toBe(again.recovery)
    const reader = await AlexStorage.open('/db', { fs: crashed, readOnly: true, follow: false })
    expect(about(reader, got[2])).toMatchObject({ ours: true, readOnly: true, source: 'snapshot' })
    expect(got.length).toBe(3)
    await reader.close()
    await again.close()
  })

  it('alexstorage:failed: once, with the OS error code and message', async () => {
    const fs = new FaultInjectionFileSystem()
    const db = await AlexStorage.open('/db', { fs })
    await db.put(1, valueFor(1, 1, 10))
    const got = listen<FailedMessage>(channels.failed)
    fs.injectFault({ op: 'sync', nth: 1, code: 'EIO', path: '/wal/' })
    const results = await Promise.allSettled([
      db.put(2, valueFor(2, 1, 10)),
      db.put(3, valueFor(3, 1, 10)),
    ])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    await expect(db.put(4, valueFor(4, 1, 10))).rejects.toMatchObject({ code: 'ERR_STORE_FAILED' })
    expect(got.length).toBe(1)
    const m = got[0]!
    expect(m.store === db).toBe(true)
    expect(m.code).toBe('ERR_STORE_FAILED')
    expect(m.error.code).toBe('ERR_STORE_FAILED')
    expect(m.causeCode).toBe('EIO')
    expect(m.causeMessage).toContain('EIO')
    await db.close().catch(() => {})
  })

  it('alexstorage:reader:reload: a following reader reloading from a newer snapshot', async () => {
    const options = { segmentBytes: 16 * 1024, walSegmentBytes: 16 * 1024, checkpointRecords: 300 }
    const writer = await AlexStorage.open(dir, options)
    const reader = await AlexStorage.open(dir, { readOnly: true, followReloadBytes: 2000 })
    const got = listen<ReaderReloadMessage>(channels.readerReload)
    for (let k = 0; k < 400; k++) await writer.put(k % 150, valueFor(k, 1, 64))
    await reader.catchUp()
    expect(reader.stats().follow!.reloads).toBe(got.length)
    expect(got.length).toBeGreaterThan(0)
    for (const m of got) {
      expect(m.store === reader).toBe(true)
      expect(m.lsn).toBeGreaterThanOrEqual(m.fromLsn)
      expect(m.durationMs).toBeGreaterThanOrEqual(0)
    }
    await reader.close()
    await writer.close()
  })
})
