import { FaultInjectionFileSystem } from '@alex/wal/testing'
import { describe, expect, it, vi } from 'vitest'
import { AlexStorage, type AlexStorageOptions } from '../src/index.js'
import { valueFor } from './helpers.js'

/**
 * I/O failures injected by @alex/wal's fault-injecting file system: a failed fsync or write makes
 * the store refuse every later write with ERR_STORE_FAILED (never retrying the fsync), keeps
 * serving reads, settles every pending promise, and a reopen recovers every acknowledged write.
 */

const DIR = '/db'
const OPTS: AlexStorageOptions = { segmentBytes: 4096, autoCompaction: false }

async function seeded(fs: FaultInjectionFileSystem): Promise<AlexStorage> {
  const db = await AlexStorage.open(DIR, { ...OPTS, fs })
  for (let k = 0; k < 10; k++) await db.put(k, valueFor(k, 1, 100))
  return db
}

async function expectRecovered(fs: FaultInjectionFileSystem, keys: number[]): Promise<AlexStorage> {
  const db = await AlexStorage.open(DIR, { ...OPTS, fs })
  for (const k of keys) expect(db.get(k)).toEqual(valueFor(k, 1, 100))
  return db
}

describe('failed fsync or write', () => {
  it('EIO on the log fsync: pending and later writes fail, reads work, reopen recovers', async () => {
    const fs = new FaultInjectionFileSystem()
    const db = await seeded(fs)
    const syncsBefore = fs.opCounts.sync
    fs.injectFault({ op: 'sync', nth: 1, code: 'EIO', path: '/wal/' })
    const inFlight = [db.put(100, valueFor(100, 1, 10)), db.put(101, valueFor(101, 1, 10))]
    const results = await Promise.allSettled(inFlight)
    for (const r of results) {
      expect(r.status).toBe('rejected')
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_STORE_FAILED' })
    }
    expect(db.failed).toBe(true)
    await expect(db.put(102, valueFor(102, 1, 10))).rejects.toMatchObject({
      code: 'ERR_STORE_FAILED',
    })
    await expect(db.delete(1)).rejects.toMatchObject({ code: 'ERR_STORE_FAILED' })
    await expect(db.checkpoint()).rejects.toMatchObject({ code: 'ERR_STORE_FAILED' })
    expect(db.get(3)).toEqual(valueFor(3, 1, 100)) // reads keep working
    expect(db.has(100)).toBe(false) // never acknowledged, never visible
    expect(fs.opCounts.sync - syncsBefore).toBe(1) // the failed fsync was not retried
    await db.close()
    const again = await expectRecovered(fs, [0, 5, 9])
    await again.put(200, valueFor(200, 1, 100))
    await again.close()
  })

  it('EIO on a data segment fsync during a checkpoint: the checkpoint and later writes fail', async () => {
    const fs = new FaultInjectionFileSystem()
    const db = await seeded(fs)
    fs.injectFault({ op: 'sync', nth: 1, code: 'EIO', path: '/data-' })
    await expect(db.checkpoint()).rejects.toMatchObject({ code: 'ERR_STORE_FAILED' })
    await expect(db.put(50, valueFor(50, 1, 10))).rejects.toMatchObject({
      code: 'ERR_STORE_FAILED',
    })
    expect(db.get(9)).toEqual(valueFor(9, 1, 100))
    await db.close()
    // Acknowledged writes are in the log; the old snapshot (if any) is untouched.
    const again = await expectRecovered(
      fs.powerCut({ mode: 'drop' }),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    )
    await again.close()
  })

  it('ENOSPC while writing the snapshot: fails, the temp file is cleaned up at the next open', async () => {
    const fs = new FaultInjectionFileSystem()
    const db = await seeded(fs)
    fs.injectFault({ op: 'write', nth: 1, code: 'ENOSPC', path: '.snap.tmp', bytesWritten: 10 })
    await expect(db.checkpoint()).rejects.toMatchObject({ code: 'ERR_STORE_FAILED' })
    expect(fs.listFiles().some((f) => f.endsWith('.tmp'))).toBe(true)
    await db.close()
    const again = await expectRecovered(fs, [0, 9])
    expect(again.recovery.removedFiles.some((f) => f.endsWith('.tmp'))).toBe(true)
    expect(fs.listFiles().some((f) => f.endsWith('.tmp'))).toBe(false)
    await again.close()
  })

  it('ENOSPC creating a new data segment: the write fails and the store refuses writes', async () => {
    const fs = new FaultInjectionFileSystem()
    const db = await seeded(fs)
    fs.injectFault({ op: 'create', nth: 1, code: 'ENOSPC', path: '/data-' })
    // 10 x 125 bytes are in the first segment; this value needs a new one.
    await expect(db.put(60, valueFor(60, 1, 4000))).rejects.toMatchObject({
      code: 'ERR_STORE_FAILED',
    })
    await expect(db.put(61, valueFor(61, 1, 1))).rejects.toMatchObject({ code: 'ERR_STORE_FAILED' })
    await db.close()
    const again = await expectRecovered(fs, [0, 9])
    // The failed write was in the log already: like any write in flight at a crash it may
    // survive; if it did, it is whole.
    const v = again.get(60)
    if (v !== undefined) expect(v).toEqual(valueFor(60, 1, 4000))
    await again.close()
  })

  it('EIO on a data segment write (flush) fails the store', async () => {
    const fs = new FaultInjectionFileSystem()
    const db = await AlexStorage.open(DIR, { ...OPTS, fs })
    fs.injectFault({ op: 'write', nth: 1, code: 'EIO', path: '/data-' })
    const writes: Promise<void>[] = []
    for (let k = 0; k < 60; k++) writes.push(db.put(k, valueFor(k, 1, 100))) // rotations flush
    const results = await Promise.allSettled(writes)
    expect(results.some((r) => r.status === 'rejected')).toBe(true)
    expect(db.failed).toBe(true)
    await expect(db.put(1000, valueFor(1000, 1, 1))).rejects.toMatchObject({
      code: 'ERR_STORE_FAILED',
    })
    await db.close()
    const again = await AlexStorage.open(DIR, { ...OPTS, fs })
    for (let k = 0; k < 60; k++) {
      if (results[k]!.status === 'fulfilled') expect(again.get(k)).toEqual(valueFor(k, 1, 100))
    }
    await again.close()
  })

  it('EIO on the background fsync of a sealed data segment fails the store, without retry', async () => {
    const fs = new FaultInjectionFileSystem()
    const db = await AlexStorage.open(DIR, { ...OPTS, fs })
    // The first segment's fsyncs: its header at creation, then its records once it is sealed.
    fs.injectFault({ op: 'sync', nth: 2, code: 'EIO', path: '/db/data-0000000001.seg' })
    const acked: number[] = []
    for (let k = 0; k < 60 && !db.failed; k++) {
      // Sequential puts: every 30 or so fill a 4 KiB segment, which is sealed, written and then
      // fsynced in the background.
      await db.put(k, valueFor(k, 1, 100)).then(
        () => acked.push(k),
        () => {},
      )
    }
    // The failure arrives with the background fsync's completion.
    await vi.waitFor(() => expect(db.failed).toBe(true), { timeout: 120_000, interval: 5 })
    const syncs = fs.opCounts.sync
    await expect(db.put(1000, valueFor(1000, 1, 1))).rejects.toMatchObject({
      code: 'ERR_STORE_FAILED',
    })
    await expect(db.checkpoint()).rejects.toMatchObject({ code: 'ERR_STORE_FAILED' })
    expect(fs.opCounts.sync).toBe(syncs) // nothing more was fsynced, the failed one not retried
    await db.close()
    const again = await AlexStorage.open(DIR, { ...OPTS, fs })
    for (const k of acked) expect(again.get(k)).toEqual(valueFor(k, 1, 100))
    await again.close()
  })
})
