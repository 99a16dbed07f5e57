import { describe, expect, it } from 'vitest'
import { FaultInjectionFileSystem } from '../src/fault-injection-file-system.js'
import { LogTail } from '../src/log-tail.js'
import { Wal } from '../src/wal.js'
import { collect, expected, put } from './helpers.js'

const DIR = '/db/wal'

describe('Wal.reserve', () => {
  it('skips the range: later operations number after it, also after a reopen and a power cut', async () => {
    const fs = new FaultInjectionFileSystem()
    const wal = await Wal.open(DIR, { fs })
    expect(await wal.append(put(1))).toBe(1n)
    expect(await wal.append(put(2))).toBe(2n)
    expect(await wal.reserve(1000)).toBe(3)
    expect(wal.lastAppendedLsn).toBe(1002n)
    expect(wal.lastDurableLsn).toBe(1002n)
    // Waiting for an LSN inside the range resolves at once: nothing to wait for.
    expect(await wal.whenDurable(500)).toBe(500)
    // The reservation alone is durable: a power cut now keeps it.
    const cut = fs.clone().powerCut({ mode: 'drop' })
    const afterCut = await Wal.open(DIR, { fs: cut })
    expect(afterCut.recovery.nextLsn).toBe(1003n)
    expect(await afterCut.append(put(9))).toBe(1003n)
    await afterCut.close()

    expect(await wal.append(put(3))).toBe(1003n)
    await wal.checkpoint(1002n) // the checkpoint may go up to the range's end
    await wal.close()
    const again = await Wal.open(DIR, { fs })
    expect(collect(again)).toEqual([expected(put(3), 1003n)])
    expect(again.recovery.nextLsn).toBe(1004n)
    await again.close()
  })

  it('writes the operations gathered before it first, and refuses a bad count', async () => {
    const fs = new FaultInjectionFileSystem()
    const wal = await Wal.open(DIR, { fs })
    const a = wal.append(put(1))
    const b = wal.append(put(2))
    const first = await wal.reserve(10)
    expect(first).toBe(3)
    expect(await a).toBe(1n)
    expect(await b).toBe(2n)
    const c = wal.append(put(3))
    expect(await c).toBe(13n)
    await expect(wal.reserve(0)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(wal.reserve(1.5)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await wal.close()
    const again = await Wal.open(DIR, { fs })
    expect(collect(again).map((r) => r.lsn)).toEqual([1n, 2n, 13n])
    await again.close()
  })

  it('a LogTail crossing the range reports it by nextLsn', async () => {
    const fs = new FaultInjectionFileSystem()
    const wal = await Wal.open(DIR, { fs })
    await wal.append(put(1))
    const tail = LogTail.open(DIR, { fs })
    const seen: number[] = []
    tail.read(wal.lastWrittenLsn, (lsn) => seen.push(lsn))
    expect(tail.position).toBe(1)
    expect(tail.nextLsn).toBe(2)
    await wal.reserve(5) // LSNs 2..6
    tail.read(6, (lsn) => seen.push(lsn))
    expect(tail.position).toBe(1)
    expect(tail.nextLsn).toBe(7) // > position + 1: the log skipped LSNs
    await wal.append(put(2))
    tail.read(wal.lastWrittenLsn, (lsn) => seen.push(lsn))
    expect(seen).toEqual([1, 7])
    expect(tail.nextLsn).toBe(8)
    // A tail opened after the range sees no gap.
    const late = LogTail.open(DIR, { fs, after: 6 })
    late.read(7, (lsn) => seen.push(lsn))
    expect(late.nextLsn).toBe(8)
    late.close()
    tail.close()
    await wal.close()
  })
})
