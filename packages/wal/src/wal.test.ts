import { describe, expect, it } from 'vitest'
import { collect, del, expected, put, settle, tempDir, valueFor } from '../test/helpers.js'
import { FaultInjectionFileSystem } from './fault-injection-file-system.js'
import type { WalOp } from './types.js'
import { Wal } from './wal.js'

const DIR = '/db/wal'

async function openFresh(options: Parameters<typeof Wal.open>[1] = {}) {
  const fs = new FaultInjectionFileSystem()
  const wal = await Wal.open(DIR, { fs, ...options })
  return { fs, wal }
}

describe('Wal: append and replay', () => {
  it('gives every operation its own LSN and replays them in order after reopen', async () => {
    const { fs, wal } = await openFresh()
    const ops: WalOp[] = [put(1), del(2), put(3, 0), put(-4.5, 300)]
    const lsns: bigint[] = []
    for (const op of ops) lsns.push(await wal.append(op))
    expect(lsns).toEqual([1n, 2n, 3n, 4n])
    expect(wal.lastAppendedLsn).toBe(4n)
    expect(wal.lastDurableLsn).toBe(4n)
    await wal.close()
    const again = await Wal.open(DIR, { fs })
    expect(collect(again)).toEqual(ops.map((op, i) => expected(op, BigInt(i + 1))))
    expect(again.recovery).toMatchObject({
      segments: 1,
      records: 4,
      lastLsn: 4n,
      nextLsn: 5n,
      dropped: [],
    })
    expect(await again.append(put(5))).toBe(5n)
    await again.close()
    expect(fs.openHandles).toBe(0)
  })

  it('gives a batch consecutive LSNs, resolves with the last, and replays it flattened', async () => {
    const { fs, wal } = await openFresh()
    await wal.append(put(0))
    const batch = [put(1), del(2), put(3, 100)]
    expect(await wal.appendBatch(batch)).toBe(4n)
    await wal.close()
    const again = await Wal.open(DIR, { fs })
    expect(collect(again)).toEqual([
      expected(put(0), 1n),
      ...batch.map((op, i) => expected(op, BigInt(i + 2))),
    ])
    await again.close()
  })

  it('copies the value at call time, so the caller may reuse its buffer', async () => {
    const { fs, wal } = await openFresh()
    const buf = new Uint8Array([1, 2, 3])
    const p = wal.append({ type: 'put', key: 1, value: buf })
    buf.fill(9)
    const q = wal.appendBatch([{ type: 'put', key: 2, value: buf }])
    buf.fill(7)
    await Promise.all([p, q])
    await wal.close()
    const again = await Wal.open(DIR, { fs })
    expect(collect(again).map((r) => r.value)).toEqual([
      [1, 2, 3],
      [9, 9, 9],
    ])
    await again.close()
  })

  it('yields value views that outlive the replay and can be iterated again', async () => {
    const { fs, wal } = await openFresh()
    await wal.append(put(1, 32))
    await wal.append(put(2, 32))
    await wal.close()
    const again = await Wal.open(DIR, { fs })
    const records = [...again.replay()]
    expect(records.map((r) => [...(r.value as Uint8Array)])).toEqual([
      [...valueFor(1, 0, 32)],
      [...valueFor(2, 0, 32)],
    ])
    expect([...again.replay()].length).toBe(2)
    await again.close()
  })

  it('accepts -0, tiny and huge finite keys and empty values', async () => {
    const { fs, wal } = await openFresh()
    const keys = [-0, Number.MIN_VALUE, -Number.MAX_VALUE, Number.MAX_VALUE, 2 ** 53 + 2]
    for (const key of keys) await wal.append({ type: 'put', key, value: new Uint8Array(0) })
    await wal.close()
    const again = await Wal.open(DIR, { fs })
    expect(collect(again).map((r) => r.key)).toEqual(keys)
    expect(Object.is(collect(again)[0]?.key, -0)).toBe(true)
    await again.close()
  })
})

describe('Wal: bad input', () => {
  it('rejects invalid operations with a typed error and writes nothing', async () => {
    const { fs, wal } = await openFresh({ maxValueBytes: 16 })
    const bad: Array<[unknown, string]> = [
      [{ type: 'put', key: Number.NaN, value: new Uint8Array(1) }, 'ERR_INVALID_KEY'],
      [{ type: 'put', key: Number.POSITIVE_INFINITY, value: new Uint8Array(1) }, 'ERR_INVALID_KEY'],
      [{ type: 'delete', key: '1' }, 'ERR_INVALID_KEY'],
      [{ type: 'put', key: 1, value: [1, 2] }, 'ERR_INVALID_VALUE'],
      [{ type: 'put', key: 1, value: 'abc' }, 'ERR_INVALID_VALUE'],
      [{ type: 'put', key: 1 }, 'ERR_INVALID_VALUE'],
      [{ type: 'put', key: 1, value: new Uint8Array(17) }, 'ERR_VALUE_TOO_LARGE'],
      [{ type: 'upsert', key: 1 }, 'ERR_INVALID_OP'],
      [null, 'ERR_INVALID_OP'],
      [42, 'ERR_INVALID_OP'],
    ]
    const writesBefore = fs.opCounts.write
    for (const [op, code] of bad) {
      await expect(wal.append(op as WalOp)).rejects.toMatchObject({ name: 'WalError', code })
      await expect(wal.appendBatch([put(1), op as WalOp])).rejects.toMatchObject({ code })
    }
    await expect(wal.appendBatch([])).rejects.toMatchObject({ code: 'ERR_INVALID_OP' })
    await expect(wal.appendBatch('x' as unknown as WalOp[])).rejects.toMatchObject({
      code: 'ERR_INVALID_OP',
    })
    await wal.sync()
    expect(fs.opCounts.write).toBe(writesBefore)
    expect(wal.lastAppendedLsn).toBe(0n)
    // A value of exactly maxValueBytes is fine, and the LSNs did not move.
    expect(await wal.append({ type: 'put', key: 1, value: new Uint8Array(16) })).toBe(1n)
    await wal.close()
  })

  it('rejects use after close with ERR_CLOSED', async () => {
    const { wal } = await openFresh()
    await wal.close()
    await expect(wal.append(put(1))).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    await expect(wal.appendBatch([put(1)])).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    await expect(wal.sync()).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    await expect(wal.checkpoint(0n)).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    expect(() => wal.replay()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
    await wal.close()
  })

  it('rejects bad options with ERR_INVALID_ARGUMENT', async () => {
    const fs = new FaultInjectionFileSystem()
    for (const options of [
      { sync: 'sometimes' },
      { recovery: 'best-effort' },
      { syncIntervalMs: 0 },
      { segmentBytes: 100 },
      { maxValueBytes: -1 },
      { maxValueBytes: 2 ** 30 },
      { minNextLsn: 0n },
      { minNextLsn: 5 },
      { blockingSync: 'yes' },
    ]) {
      await expect(Wal.open(DIR, { fs, ...(options as object) })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      })
    }
    expect(fs.listFiles()).toEqual([])
  })

  it('rejects checkpoints ahead of the log or going backwards', async () => {
    const { wal } = await openFresh()
    await wal.append(put(1))
    await wal.append(put(2))
    await expect(wal.checkpoint(3n)).rejects.toMatchObject({ code: 'ERR_INVALID_LSN' })
    await expect(wal.checkpoint(-1n)).rejects.toMatchObject({ code: 'ERR_INVALID_LSN' })
    await expect(wal.checkpoint(1 as unknown as bigint)).rejects.toMatchObject({
      code: 'ERR_INVALID_LSN',
    })
    await wal.checkpoint(2n)
    await wal.checkpoint(2n)
    await expect(wal.checkpoint(1n)).rejects.toMatchObject({ code: 'ERR_INVALID_LSN' })
    await wal.close()
  })
})

describe('Wal: durability modes', () => {
  it("'always' syncs before resolving; 'none' does not, until sync()", async () => {
    const always = await openFresh()
    await always.wal.append(put(1))
    const file = always.fs.listFiles()[0] as string
    expect(always.fs.readDurableFile(file).length).toBe(always.fs.readFile(file).length)
    await always.wal.close()

    const none = await openFresh({ sync: 'none' })
    const synced = none.fs.opCounts.sync
    expect(await none.wal.append(put(1))).toBe(1n)
    const f = none.fs.listFiles()[0] as string
    expect(none.fs.opCounts.sync).toBe(synced)
    expect(none.fs.readDurableFile(f).length).toBeLessThan(none.fs.readFile(f).length)
    expect(none.wal.lastDurableLsn).toBe(0n)
    await none.wal.sync()
    expect(none.wal.lastDurableLsn).toBe(1n)
    expect(none.fs.readDurableFile(f).length).toBe(none.fs.readFile(f).length)
    await none.wal.close()
  })

  it("'interval' resolves on write and syncs within the interval", async () => {
    const { fs, wal } = await openFresh({ sync: 'interval', syncIntervalMs: 20 })
    const syncs = fs.opCounts.sync
    await wal.append(put(1))
    await wal.append(put(2))
    expect(fs.opCounts.sync).toBe(syncs)
    expect(wal.lastDurableLsn).toBe(0n)
    const start = performance.now()
    while (wal.lastDurableLsn < 2n && performance.now() - start < 5000) {
      await new Promise((r) => setTimeout(r, 5))
    }
    expect(wal.lastDurableLsn).toBe(2n)
    // One fsync covered both appends.
    expect(fs.opCounts.sync).toBe(syncs + 1)
    await wal.close()
  })

  it('blockingSync syncs on the calling thread and still groups concurrent appends', async () => {
    const fs = new FaultInjectionFileSystem()
    const calls: string[] = []
    const open = fs.open.bind(fs)
    fs.open = (path, flags) => {
      const handle = open(path, flags)
      const sync = handle.sync.bind(handle)
      const syncSync = handle.syncSync.bind(handle)
      handle.sync = () => {
        calls.push('sync')
        return sync()
      }
      handle.syncSync = () => {
        calls.push('syncSync')
        syncSync()
      }
      return handle
    }
    const wal = await Wal.open(DIR, { fs, blockingSync: true })
    calls.length = 0
    const lsns = await Promise.all(Array.from({ length: 20 }, (_, i) => wal.append(put(i))))
    expect(lsns.at(-1)).toBe(20n)
    expect(calls).toEqual(['syncSync'])
    expect(wal.stats().groupSize.max).toBe(20)
    await wal.close()
    const plain = await Wal.open(DIR, { fs })
    calls.length = 0
    await plain.append(put(1))
    expect(calls).toEqual(['sync'])
    await plain.close()
  })

  it('close() settles every pending append and makes it durable in every mode', async () => {
    for (const sync of ['always', 'interval', 'none'] as const) {
      const { fs, wal } = await openFresh({ sync })
      const pending = [wal.append(put(1)), wal.appendBatch([put(2), put(3)]), wal.append(del(4))]
      await wal.close()
      expect(await Promise.all(pending)).toEqual([1n, 3n, 4n])
      const after = fs.powerCut({ mode: 'drop' })
      const again = await Wal.open(DIR, { fs: after })
      expect(collect(again).map((r) => r.lsn)).toEqual([1n, 2n, 3n, 4n])
      await again.close()
    }
  })

  it('close() waits for a checkpoint called just before it', async () => {
    const { fs, wal } = await openFresh({ segmentBytes: 4096 })
    for (let i = 0; i < 60; i++) await wal.append(put(i, 100))
    const cp = wal.checkpoint(60n)
    await wal.close()
    await cp
    expect(fs.openHandles).toBe(0)
    expect(fs.listFiles()).toHaveLength(1)
    const again = await Wal.open(DIR, { fs })
    expect(again.checkpointLsn).toBe(60n)
    await again.close()
  })

  it('close() is idempotent', async () => {
    const { wal } = await openFresh()
    const a = wal.close()
    expect(wal.close()).toBe(a)
    await a
  })
})

describe('Wal: checkpoints and segments', () => {
  it('rotates segments at segmentBytes and keeps LSNs contiguous across them', async () => {
    const { fs, wal } = await openFresh({ segmentBytes: 4096 })
    for (let i = 0; i < 200; i++) await wal.append(put(i, 100))
    expect(wal.stats().segments).toBeGreaterThan(4)
    for (const f of fs.listFiles()) expect(fs.readFile(f).length).toBeLessThanOrEqual(4096)
    await wal.close()
    const again = await Wal.open(DIR, { fs })
    expect(collect(again).map((r) => Number(r.lsn))).toEqual(
      Array.from({ length: 200 }, (_, i) => i + 1),
    )
    await again.close()
  })

  it('a checkpoint deletes covered segments, and replay starts after it', async () => {
    const { fs, wal } = await openFresh({ segmentBytes: 4096 })
    for (let i = 0; i < 100; i++) await wal.append(put(i, 100))
    const before = wal.stats().segments
    await wal.checkpoint(60n)
    const mid = wal.stats()
    expect(mid.segments).toBeLessThan(before)
    expect(mid.checkpoints).toBe(1)
    expect(mid.checkpointLsn).toBe(60n)
    expect(mid.segmentsDeleted).toBe(before - mid.segments)
    expect(wal.checkpointLsn).toBe(60n)
    await wal.close()
    const again = await Wal.open(DIR, { fs })
    expect(again.checkpointLsn).toBe(60n)
    expect(collect(again).map((r) => Number(r.lsn))).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 61),
    )
    expect(again.recovery.records).toBe(40)
    await again.close()
  })

  it('a checkpoint of everything leaves one small segment, and LSNs continue after reopen', async () => {
    const { fs, wal } = await openFresh({ segmentBytes: 4096 })
    for (let i = 0; i < 100; i++) await wal.append(put(i, 100))
    await wal.checkpoint(100n)
    expect(fs.listFiles()).toHaveLength(1)
    await wal.close()
    for (let round = 0; round < 3; round++) {
      const again = await Wal.open(DIR, { fs })
      expect(collect(again)).toEqual([])
      expect(again.lastAppendedLsn).toBe(BigInt(100 + round))
      expect(await again.append(put(round))).toBe(BigInt(101 + round))
      await again.checkpoint(again.lastAppendedLsn)
      await again.close()
      expect(fs.listFiles().length).toBeLessThanOrEqual(2)
    }
  })

  it('minNextLsn raises the next LSN, also over an existing log', async () => {
    const { fs, wal } = await openFresh({ minNextLsn: 1000n })
    expect(wal.lastAppendedLsn).toBe(999n)
    expect(await wal.append(put(1))).toBe(1000n)
    await wal.close()
    const again = await Wal.open(DIR, { fs, minNextLsn: 5000n })
    expect(await again.append(put(2))).toBe(5000n)
    await again.close()
    const third = await Wal.open(DIR, { fs, minNextLsn: 10n })
    expect(collect(third).map((r) => r.lsn)).toEqual([1000n, 5000n])
    expect(await third.append(put(3))).toBe(5001n)
    await third.close()
  })

  it('replay after a checkpoint skips what the checkpoint covers', async () => {
    const { fs, wal } = await openFresh()
    for (let i = 1; i <= 5; i++) await wal.append(put(i))
    await wal.close()
    const again = await Wal.open(DIR, { fs })
    await again.checkpoint(3n)
    expect(collect(again).map((r) => r.lsn)).toEqual([4n, 5n])
    await again.close()
  })

  it('sync() and checkpoint() are ordered after earlier appends', async () => {
    const { wal } = await openFresh({ sync: 'none' })
    const a = wal.append(put(1))
    const s = wal.sync()
    const c = wal.checkpoint(1n)
    const order: string[] = []
    await Promise.all([
      a.then(() => order.push('a')),
      s.then(() => order.push('s')),
      c.then(() => order.push('c')),
    ])
    expect(order).toEqual(['a', 's', 'c'])
    expect(wal.lastDurableLsn).toBe(1n)
    await wal.close()
  })
})

describe('Wal: stats and group commit', () => {
  it('counts bytes, records, groups and fsyncs', async () => {
    const { wal } = await openFresh()
    const s0 = wal.stats()
    await Promise.all([wal.append(put(1)), wal.append(put(2)), wal.appendBatch([put(3), del(4)])])
    const s = wal.stats()
    expect(s.recordsWritten).toBe(4)
    expect(s.batchesWritten).toBe(1)
    expect(s.groupCommits).toBe(1)
    expect(s.groupSize).toEqual({ mean: 4, max: 4 })
    expect(s.fsyncs - s0.fsyncs).toBe(1)
    // One write: the 25-byte durable watermark, two puts, one batch (put and delete).
    expect(s.bytesWritten - s0.bytesWritten).toBe(25 + 2 * 33 + 9 + 12 + 21 + 9)
    expect(s.fsyncLatencyUs.count).toBe(s.fsyncs)
    expect(s.lastAppendedLsn).toBe(4n)
    expect(s.lastDurableLsn).toBe(4n)
    expect(s.failed).toBe(false)
    await wal.close()
  })

  it('gathers appends made while an fsync is in flight into the next group', async () => {
    const fs = new FaultInjectionFileSystem({ syncDelayMs: 5 })
    const wal = await Wal.open(DIR, { fs })
    const first = wal.append(put(0))
    await new Promise((r) => setTimeout(r, 1))
    const rest = Array.from({ length: 50 }, (_, i) => wal.append(put(i + 1)))
    await Promise.all([first, ...rest])
    const s = wal.stats()
    expect(s.groupCommits).toBe(2)
    expect(s.groupSize.max).toBe(50)
    await wal.close()
  })
})

describe('Wal: real file system', () => {
  it('appends, reopens and replays through node:fs', async () => {
    const { dir, cleanup } = tempDir()
    try {
      const wal = await Wal.open(dir)
      const ops = Array.from({ length: 50 }, (_, i) => (i % 5 === 4 ? del(i) : put(i, i * 3)))
      await Promise.all(ops.map((op) => wal.append(op)))
      await wal.close()
      const again = await Wal.open(dir)
      expect(collect(again)).toEqual(ops.map((op, i) => expected(op, BigInt(i + 1))))
      const r = await settle(again.checkpoint(50n))
      expect(r.ok).toBe(true)
      await again.close()
    } finally {
      cleanup()
    }
  })
})
