import { describe, expect, it, vi } from 'vitest'
import { Wal } from '../src/index.js'
import { FaultInjectionFileSystem } from '../src/testing.js'
import { collect, put, settle } from './helpers.js'

const DIR = '/db/wal'

describe('EIO on sync', () => {
  it('rejects the pending appends, refuses later ones, never retries, and reopening recovers', async () => {
    const fs = new FaultInjectionFileSystem({ syncDelayMs: 2 })
    const wal = await Wal.open(DIR, { fs })
    expect(await wal.append(put(1))).toBe(1n)
    fs.injectFault({ op: 'sync', nth: 1, code: 'EIO', path: '.wal' })
    const doomed = [wal.append(put(2)), wal.appendBatch([put(3), put(4)])]
    const results = await Promise.all(doomed.map(settle))
    for (const r of results) {
      expect(r.ok).toBe(false)
      const error = (r as { error: { code: string; cause: { code: string } } }).error
      expect(error.code).toBe('ERR_WAL_FAILED')
      expect(error.cause.code).toBe('EIO')
    }
    const syncsAfterFailure = fs.opCounts.sync
    expect(wal.stats().failed).toBe(true)
    expect(wal.lastDurableLsn).toBe(1n)
    await expect(wal.append(put(5))).rejects.toMatchObject({ code: 'ERR_WAL_FAILED' })
    await expect(wal.sync()).rejects.toMatchObject({ code: 'ERR_WAL_FAILED' })
    await expect(wal.checkpoint(1n)).rejects.toMatchObject({ code: 'ERR_WAL_FAILED' })
    await new Promise((r) => setTimeout(r, 20))
    // No retry: the failed fsync was the last one.
    expect(fs.opCounts.sync).toBe(syncsAfterFailure)
    await wal.close()
    expect(fs.opCounts.sync).toBe(syncsAfterFailure)
    expect(fs.openHandles).toBe(0)

    // The kernel "lost" the unsynced pages; after a power cut only LSN 1 is certain.
    const afterCut = fs.powerCut({ mode: 'drop' })
    const reopened = await Wal.open(DIR, { fs: afterCut })
    const lsns = collect(reopened).map((r) => r.lsn)
    expect(lsns[0]).toBe(1n)
    expect(await reopened.append(put(6))).toBe(BigInt(lsns.length + 1))
    await reopened.close()
  })

  it('a failed sync in interval mode fails the log for later appends', async () => {
    const fs = new FaultInjectionFileSystem()
    const wal = await Wal.open(DIR, { fs, sync: 'interval', syncIntervalMs: 5 })
    fs.injectFault({ op: 'sync', nth: 1, code: 'EIO' })
    expect(await wal.append(put(1))).toBe(1n)
    // The interval's fsync fails in the background: wait for the log to say so.
    await vi.waitFor(() => expect(wal.stats().failed).toBe(true), { timeout: 120_000, interval: 5 })
    await expect(wal.append(put(2))).rejects.toMatchObject({ code: 'ERR_WAL_FAILED' })
    await wal.close()
  })

  it('a failed directory sync while rotating fails the log too', async () => {
    const fs = new FaultInjectionFileSystem()
    const wal = await Wal.open(DIR, { fs, segmentBytes: 4096 })
    fs.injectFault({ op: 'syncDir', nth: 1, code: 'EIO' })
    const results: Array<Awaited<ReturnType<typeof settle>>> = []
    for (let i = 0; i < 60; i++) results.push(await settle(wal.append(put(i, 100))))
    // Appends succeed until the first segment is full; creating the next one fails.
    const firstFailure = results.findIndex((r) => !r.ok)
    expect(firstFailure).toBeGreaterThan(10)
    expect(results.slice(firstFailure).every((r) => !r.ok)).toBe(true)
    expect(results[firstFailure]).toMatchObject({
      ok: false,
      error: { code: 'ERR_WAL_FAILED', cause: { code: 'EIO' } },
    })
    await wal.close()
    const again = await Wal.open(DIR, { fs })
    const acked = results.filter((r) => r.ok).length
    expect(collect(again).length).toBe(acked)
    await again.close()
  })

  it('close() rejects if its final sync fails', async () => {
    const fs = new FaultInjectionFileSystem()
    const wal = await Wal.open(DIR, { fs, sync: 'none' })
    await wal.append(put(1))
    fs.injectFault({ op: 'sync', nth: 1, code: 'EIO' })
    await expect(wal.close()).rejects.toMatchObject({ code: 'ERR_WAL_FAILED' })
    expect(fs.openHandles).toBe(0)
  })
})

describe('failures while opening', () => {
  it('a failing step of open rejects with the I/O error, leaks no handle, and a retry works', async () => {
    for (const op of ['sync', 'syncDir', 'rename', 'create', 'unlink'] as const) {
      const fs = new FaultInjectionFileSystem()
      const first = await Wal.open(DIR, { fs, segmentBytes: 4096 })
      for (let i = 0; i < 60; i++) await first.append(put(i, 100))
      await first.checkpoint(40n)
      await first.close()
      fs.writeFile(`${DIR}/00000000000000000001.wal`, new Uint8Array(10))
      fs.injectFault({ op, nth: 1, code: 'EIO' })
      await expect(Wal.open(DIR, { fs }), op).rejects.toMatchObject({ code: 'EIO' })
      expect(fs.openHandles, op).toBe(0)
      const again = await Wal.open(DIR, { fs })
      expect(collect(again).map((r) => Number(r.lsn))).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 41),
      )
      await again.close()
    }
  })
})

describe('ENOSPC on write', () => {
  it('rejects the appends, cuts the partial write, and leaves the log consistent', async () => {
    const fs = new FaultInjectionFileSystem()
    const wal = await Wal.open(DIR, { fs })
    await wal.append(put(1))
    await wal.append(put(2))
    const file = fs.listFiles()[0] as string
    const size = wal.stats().bytesWritten // where the frames end (the file has padding after)
    fs.injectFault({ op: 'write', nth: 1, code: 'ENOSPC', bytesWritten: 20 })
    const r = await settle(wal.append(put(3, 100)))
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'ERR_WAL_FAILED', cause: { code: 'ENOSPC' } },
    })
    expect(fs.readFile(file).length).toBe(size)
    await expect(wal.append(put(4))).rejects.toMatchObject({ code: 'ERR_WAL_FAILED' })
    await wal.close()
    expect(fs.openHandles).toBe(0)
    const again = await Wal.open(DIR, { fs, recovery: 'absolute-consistency' })
    expect(collect(again).map((x) => x.lsn)).toEqual([1n, 2n])
    await again.close()
  })

  it('if the partial write cannot be cut off, reopening repairs the torn tail', async () => {
    const fs = new FaultInjectionFileSystem()
    const wal = await Wal.open(DIR, { fs })
    await wal.append(put(1))
    // 40 bytes: the group's 25-byte durable watermark and the first 15 bytes of the batch.
    fs.injectFault({ op: 'write', nth: 1, code: 'ENOSPC', bytesWritten: 40 })
    fs.injectFault({ op: 'truncate', nth: 1, code: 'EIO' })
    await expect(wal.appendBatch([put(2, 50), put(3, 50)])).rejects.toMatchObject({
      code: 'ERR_WAL_FAILED',
    })
    await wal.close()
    const file = fs.listFiles()[0] as string
    // The partial write stays, followed by the zero padding reserved ahead of the writes.
    const bytes = fs.readFile(file)
    const group = 56 + 25 + 33 // where the failed write starts
    expect(bytes.subarray(group, group + 40).some((b) => b !== 0)).toBe(true)
    expect(bytes.subarray(group + 40).every((b) => b === 0)).toBe(true)
    const again = await Wal.open(DIR, { fs })
    expect(collect(again).map((x) => x.lsn)).toEqual([1n])
    expect(again.recovery.dropped).toEqual([
      {
        file,
        offset: group + 25,
        bytesDropped: bytes.length - (group + 25),
        reason: 'checksum-mismatch',
      },
    ])
    // The LSNs of the rejected batch were never acknowledged, so they may be reused.
    expect(await again.append(put(9))).toBe(2n)
    await again.close()
  })
})
