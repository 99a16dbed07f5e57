import { describe, expect, it } from 'vitest'
import { Wal } from '../src/index.js'
import { FaultInjectionFileSystem } from '../src/testing.js'
import { collect, countWrites, put, tempDir } from './helpers.js'

/** `writers` loops, each appending `perWriter` records one after the other. */
async function concurrentAppenders(
  wal: Wal,
  writers: number,
  perWriter: number,
): Promise<bigint[]> {
  const lsns: bigint[] = []
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < perWriter; i++) lsns.push(await wal.append(put(w * 10_000 + i, 128)))
    }),
  )
  return lsns
}

describe('group commit', () => {
  it('64 concurrent appenders on the real file system need far fewer fsyncs than records', async () => {
    const { dir, cleanup } = tempDir()
    try {
      const wal = await Wal.open(dir)
      const before = wal.stats()
      const lsns = await concurrentAppenders(wal, 64, 40)
      const s = wal.stats()
      const records = s.recordsWritten - before.recordsWritten
      const fsyncs = s.fsyncs - before.fsyncs
      expect(records).toBe(64 * 40)
      expect(new Set(lsns).size).toBe(64 * 40)
      // Every writer waits for its fsync, so a group holds up to 64 records.
      expect(fsyncs).toBeLessThan(records / 16)
      expect(s.groupCommits).toBe(fsyncs)
      expect(s.groupSize.max).toBe(64)
      expect(s.lastDurableLsn).toBe(BigInt(64 * 40))
      await wal.close()
      const again = await Wal.open(dir)
      expect(collect(again).map((r) => Number(r.lsn))).toEqual(
        Array.from({ length: 64 * 40 }, (_, i) => i + 1),
      )
      await again.close()
    } finally {
      cleanup()
    }
  })

  it('one write and one fsync per group, also with a slow disk', async () => {
    const fs = new FaultInjectionFileSystem({ syncDelayMs: 3 })
    const wal = await Wal.open('/db/wal', { fs })
    const writes = countWrites(fs)
    const syncs = fs.opCounts.sync
    await concurrentAppenders(wal, 64, 10)
    const s = wal.stats()
    expect(writes.frames).toBe(s.groupCommits)
    // Zeros written ahead: one fill per 32-64 KiB of frames (about 100 KiB here).
    expect(writes.zeroFills).toBeGreaterThanOrEqual(1)
    expect(writes.zeroFills).toBeLessThanOrEqual(Math.ceil(s.bytesWritten / 32768))
    expect(fs.opCounts.sync - syncs).toBe(s.groupCommits)
    expect(s.groupCommits).toBeLessThanOrEqual(12)
    await wal.close()
  })

  it('a single serial writer gets one fsync per append (nothing to group)', async () => {
    const fs = new FaultInjectionFileSystem()
    const wal = await Wal.open('/db/wal', { fs })
    const before = wal.stats().fsyncs
    for (let i = 0; i < 20; i++) await wal.append(put(i))
    expect(wal.stats().fsyncs - before).toBe(20)
    await wal.close()
  })
})
