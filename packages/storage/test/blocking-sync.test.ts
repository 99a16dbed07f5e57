import { FaultInjectionFileSystem } from '@alex/wal/testing'
import { describe, expect, it } from 'vitest'
import { AlexStorage } from '../src/index.js'
import { valueFor } from './helpers.js'

/**
 * `blockingSync: true` moves the log's fdatasyncs onto the JS thread: every durable write is
 * still durable when its promise resolves (a power cut right after loses nothing), concurrent
 * writers still share fsyncs, and a failed fsync is still fatal for the store.
 */

const DIR = '/db'

/** Counts the thread-pool and blocking fsyncs made on files of the log. */
function countLogSyncs(fs: FaultInjectionFileSystem): { sync: number; syncSync: number } {
  const counts = { sync: 0, syncSync: 0 }
  const open = fs.open.bind(fs)
  fs.open = (path, flags) => {
    const handle = open(path, flags)
    if (!path.startsWith(`${DIR}/wal/`)) return handle
    const sync = handle.sync.bind(handle)
    const syncSync = handle.syncSync.bind(handle)
    handle.sync = () => {
      counts.sync++
      return sync()
    }
    handle.syncSync = () => {
      counts.syncSync++
      syncSync()
    }
    return handle
  }
  return counts
}

describe('blockingSync', () => {
  it('fsyncs the log on the calling thread, groups concurrent writers, survives a power cut', async () => {
    const fs = new FaultInjectionFileSystem()
    const counts = countLogSyncs(fs)
    const db = await AlexStorage.open(DIR, { fs, blockingSync: true, autoCompaction: false })
    counts.sync = 0
    counts.syncSync = 0
    await Promise.all(Array.from({ length: 64 }, (_, k) => db.put(k, valueFor(k, 1, 100))))
    for (let k = 64; k < 74; k++) await db.put(k, valueFor(k, 1, 100))
    await db.batch([
      { type: 'delete', key: 0 },
      { type: 'put', key: 1, value: valueFor(1, 2, 50) },
    ])
    expect(counts.sync).toBe(0)
    expect(counts.syncSync).toBeGreaterThanOrEqual(12) // at least one per serial write
    expect(counts.syncSync).toBeLessThan(64 + 10) // the 64 concurrent puts shared fsyncs

    // Every acknowledged write is on the durable image: cut the power without closing.
    const after = await AlexStorage.open(DIR, { fs: fs.powerCut({ mode: 'drop' }) })
    expect(after.get(0)).toBeUndefined()
    expect(after.get(1)).toEqual(valueFor(1, 2, 50))
    for (let k = 2; k < 74; k++) expect(after.get(k)).toEqual(valueFor(k, 1, 100))
    await after.close()
    // The first instance stands for the process that died with the power: its file system is
    // gone, so closing it only releases its memory.
    await db.close().catch(() => undefined)
  })

  it('is off by default: the log fsyncs in the thread pool', async () => {
    const fs = new FaultInjectionFileSystem()
    const counts = countLogSyncs(fs)
    const db = await AlexStorage.open(DIR, { fs })
    await db.put(1, valueFor(1, 1, 10))
    expect(counts.sync).toBeGreaterThan(0)
    expect(counts.syncSync).toBe(0)
    await db.close()
  })

  it('a failed blocking fsync fails the store and the write, and is not retried', async () => {
    const fs = new FaultInjectionFileSystem()
    const counts = countLogSyncs(fs)
    const db = await AlexStorage.open(DIR, { fs, blockingSync: true })
    await db.put(1, valueFor(1, 1, 10))
    fs.injectFault({ op: 'sync', nth: 1, code: 'EIO', path: '/wal/' })
    await expect(db.put(2, valueFor(2, 1, 10))).rejects.toMatchObject({ code: 'ERR_STORE_FAILED' })
    expect(db.failed).toBe(true)
    const syncsAfterFailure = counts.syncSync
    await expect(db.put(3, valueFor(3, 1, 10))).rejects.toMatchObject({ code: 'ERR_STORE_FAILED' })
    expect(db.get(1)).toEqual(valueFor(1, 1, 10))
    expect(db.get(2)).toBeUndefined()
    await db.close()
    expect(counts.syncSync).toBe(syncsAfterFailure)

    const reopened = await AlexStorage.open(DIR, { fs: fs.powerCut({ mode: 'drop' }) })
    expect(reopened.get(1)).toEqual(valueFor(1, 1, 10))
    await reopened.close()
  })
})
