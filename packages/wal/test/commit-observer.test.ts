import { describe, expect, it } from 'vitest'
import { Wal } from '../src/index.js'
import { FaultInjectionFileSystem } from '../src/testing.js'
import { put } from './helpers.js'

interface Told {
  ops: number
  bytes: number
  syncMs: number
}

function observe(wal: Wal): Told[] {
  const told: Told[] = []
  wal.observeCommits((ops, bytes, syncMs) => told.push({ ops, bytes, syncMs }))
  return told
}

describe('Wal.observeCommits', () => {
  it('tells every group write: its operations, bytes and fdatasync time, matching stats()', async () => {
    const fs = new FaultInjectionFileSystem({ syncDelayMs: 1 })
    const wal = await Wal.open('/db/wal', { fs })
    const before = wal.stats()
    const told = observe(wal)
    await Promise.all(Array.from({ length: 40 }, (_, i) => wal.append(put(i, 100))))
    await wal.appendBatch([put(100), put(101), put(102)])
    const s = wal.stats()
    const groups = told.filter((t) => t.ops > 0)
    expect(groups.length).toBe(s.groupCommits - before.groupCommits)
    expect(groups.reduce((n, t) => n + t.ops, 0)).toBe(43)
    expect(Math.max(...groups.map((t) => t.ops))).toBe(s.groupSize.max)
    // No rotation happened: every byte written after open is a group's.
    expect(told.reduce((n, t) => n + t.bytes, 0)).toBe(s.bytesWritten - before.bytesWritten)
    // sync 'always': each group was fdatasynced, and the delay is in its time.
    for (const t of groups) expect(t.syncMs).toBeGreaterThanOrEqual(0)
    expect(told.filter((t) => t.syncMs >= 0).length).toBe(s.fsyncs - before.fsyncs)
    await wal.close()
  })

  it("reports -1 for groups that were not synced (sync 'none'), then the sync", async () => {
    const fs = new FaultInjectionFileSystem()
    const wal = await Wal.open('/db/wal', { fs, sync: 'none' })
    const told = observe(wal)
    await wal.append(put(1))
    expect(told).toEqual([{ ops: 1, bytes: expect.any(Number), syncMs: -1 }])
    await wal.sync()
    expect(told.length).toBe(2)
    expect(told[1]).toMatchObject({ ops: 0, bytes: 0 })
    expect(told[1]!.syncMs).toBeGreaterThanOrEqual(0)
    await wal.close()
  })

  it('an observer that throws fails nothing: the write resolves, the error reaches the next tick', async () => {
    const fs = new FaultInjectionFileSystem()
    const wal = await Wal.open('/db/wal', { fs })
    const boom = new Error('observer bug')
    wal.observeCommits(() => {
      throw boom
    })
    const uncaught = new Promise<unknown>((resolve) => {
      const listeners = process.listeners('uncaughtException')
      process.removeAllListeners('uncaughtException')
      process.once('uncaughtException', (err) => {
        for (const l of listeners) process.on('uncaughtException', l)
        resolve(err)
      })
    })
    expect(await wal.append(put(1))).toBe(1n)
    expect(await uncaught).toBe(boom)
    wal.observeCommits(undefined)
    expect(await wal.append(put(2))).toBe(2n)
    expect(wal.stats().failed).toBe(false)
    await wal.close()
  })
})
