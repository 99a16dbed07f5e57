import { describe, expect, it } from 'vitest'
import { Wal } from '../src/index.js'
import { FaultInjectionFileSystem } from '../src/testing.js'

/**
 * `syncWrittenSync`: whatever the sync mode, every operation whose promise resolved is durable
 * once it returns (the store relies on it to never write a data record before its log record is
 * durable), with one blocking fdatasync and none when nothing is new.
 */

const DIR = '/db/wal'
const put = (key: number) => ({ type: 'put' as const, key, value: new Uint8Array(40).fill(key) })

describe('Wal.syncWrittenSync', () => {
  it("makes resolved appends durable in sync 'none', with one blocking fsync", async () => {
    const fs = new FaultInjectionFileSystem({ seed: 3 })
    const wal = await Wal.open(DIR, { fs, sync: 'none' })
    for (let k = 1; k <= 5; k++) await wal.append(put(k))
    expect(wal.lastDurableLsn).toBeLessThan(5n)
    const fsyncs = wal.stats().fsyncs
    wal.syncWrittenSync()
    expect(wal.lastDurableLsn).toBe(5n)
    expect(wal.stats().fsyncs).toBe(fsyncs + 1)
    wal.syncWrittenSync() // nothing new: no fsync
    expect(wal.stats().fsyncs).toBe(fsyncs + 1)
    // A power cut that drops every unsynced byte keeps all five.
    const survivor = fs.powerCut({ mode: 'drop' })
    const reopened = await Wal.open(DIR, { fs: survivor })
    expect([...reopened.replay()].map((r) => r.key)).toEqual([1, 2, 3, 4, 5])
    await reopened.close()
  })

  it('a failed fsync fails the log (never retried) and later calls refuse', async () => {
    const fs = new FaultInjectionFileSystem({ seed: 4 })
    const wal = await Wal.open(DIR, { fs, sync: 'none' })
    await wal.append(put(1))
    fs.injectFault({ op: 'sync', nth: 1, code: 'EIO' })
    expect(() => wal.syncWrittenSync()).toThrow(expect.objectContaining({ code: 'ERR_WAL_FAILED' }))
    fs.clearFaults()
    expect(() => wal.syncWrittenSync()).toThrow(expect.objectContaining({ code: 'ERR_WAL_FAILED' }))
    await expect(wal.append(put(2))).rejects.toMatchObject({ code: 'ERR_WAL_FAILED' })
    await wal.close().catch(() => {})
  })
})
