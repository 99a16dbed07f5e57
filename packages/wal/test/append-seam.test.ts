import { describe, expect, it } from 'vitest'
import { Wal } from '../src/index.js'
import { FaultInjectionFileSystem } from '../src/testing.js'

/**
 * The log-append seam an owner such as the store uses: `appendValidated` hands back the LSN at
 * once (a number), `whenDurable` is durability as a separate promise, `syncThrough` the blocking
 * barrier and `checkpointUpTo` a number-LSN checkpoint.
 */

const DIR = '/db/wal'
const put = (key: number) => ({ type: 'put' as const, key, value: new Uint8Array(8).fill(key) })

describe('Wal append seam', () => {
  it('numbers operations at once and resolves their durability separately', async () => {
    const fs = new FaultInjectionFileSystem({ seed: 1 })
    const wal = await Wal.open(DIR, { fs, sync: 'always' })
    const a = wal.appendValidated(put(1))
    const b = wal.appendBatchValidated([put(2), { type: 'delete', key: 1 }])
    expect([a, b]).toEqual([1, 3])
    expect(wal.lastAppendedLsn).toBe(3n)
    expect(wal.lastDurableLsn).toBe(0n)
    expect(await wal.whenDurable(b)).toBe(3)
    expect(wal.lastDurableLsn).toBe(3n)
    // Already durable: resolves at once with the same number.
    expect(await wal.whenDurable(a)).toBe(1)
    // The survivor of a power cut holds all three.
    const reopened = await Wal.open(DIR, { fs: fs.powerCut({ mode: 'drop' }) })
    expect([...reopened.replay()].map((r) => [Number(r.lsn), r.type, r.key])).toEqual([
      [1, 'put', 1],
      [2, 'put', 2],
      [3, 'delete', 1],
    ])
    await reopened.close()
  })

  it("syncThrough makes acknowledged operations durable in sync 'none'; once only", async () => {
    const fs = new FaultInjectionFileSystem({ seed: 2 })
    const wal = await Wal.open(DIR, { fs, sync: 'none' })
    const lsn = wal.appendValidated(put(7))
    await wal.whenDurable(lsn)
    expect(wal.lastDurableLsn).toBe(0n)
    const fsyncs = wal.stats().fsyncs
    wal.syncThrough(lsn)
    expect(wal.lastDurableLsn).toBe(1n)
    wal.syncThrough(lsn) // durable already: no fsync
    expect(wal.stats().fsyncs).toBe(fsyncs + 1)
    await wal.close()
  })

  it('checkpointUpTo clamps to the last appended LSN and never goes back', async () => {
    const fs = new FaultInjectionFileSystem({ seed: 3 })
    const wal = await Wal.open(DIR, { fs, sync: 'always' })
    await wal.whenDurable(wal.appendValidated(put(1)))
    await wal.checkpointUpTo(10)
    expect(wal.checkpointLsn).toBe(1n)
    await wal.checkpointUpTo(0) // behind: nothing to do, no error
    expect(wal.checkpointLsn).toBe(1n)
    await wal.close()
  })

  it('a failed or closed log refuses at once; a failure rejects waiters', async () => {
    const fs = new FaultInjectionFileSystem({ seed: 4 })
    const wal = await Wal.open(DIR, { fs, sync: 'always' })
    fs.injectFault({ op: 'sync', nth: 1, code: 'EIO' })
    const lsn = wal.appendValidated(put(1))
    await expect(wal.whenDurable(lsn)).rejects.toMatchObject({ code: 'ERR_WAL_FAILED' })
    expect(() => wal.appendValidated(put(2))).toThrow(
      expect.objectContaining({ code: 'ERR_WAL_FAILED' }),
    )
    await wal.close()
    expect(() => wal.appendValidated(put(3))).toThrow(
      expect.objectContaining({ code: 'ERR_CLOSED' }),
    )
  })
})
