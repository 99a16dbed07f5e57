import { describe, expect, it } from 'vitest'
import { collect, flipBits, put } from '../test/helpers.js'
import { FaultInjectionFileSystem } from './fault-injection-file-system.js'
import { FORMAT_VERSION, HDR_VERSION, SEGMENT_HEADER_BYTES } from './format.js'
import { encodeSegmentHeader, segmentFileName } from './segment.js'
import type { RecoveryMode, WalOptions } from './types.js'
import { Wal } from './wal.js'

const DIR = '/db/wal'
const seg = (id: number) => `${DIR}/${segmentFileName(id)}`
/** A put of an 8-byte value: 33 bytes. */
const PUT = 33
/** The durable-watermark frame at the start of every group write: 25 bytes. */
const WM = 25
/** One serial append: its write holds a watermark and the put. */
const REC = WM + PUT
/** Offset of the put frame of the i-th (0-based) serial append in segment 1. */
const putAt = (i: number) => SEGMENT_HEADER_BYTES + i * REC + WM

/** A log whose segment 1 holds `n` puts (LSN 1..n), closed. */
async function logWith(n: number, options: WalOptions = {}): Promise<FaultInjectionFileSystem> {
  const fs = new FaultInjectionFileSystem()
  const wal = await Wal.open(DIR, { fs, ...options })
  for (let i = 1; i <= n; i++) await wal.append(put(i))
  await wal.close()
  return fs
}

function edit(
  fs: FaultInjectionFileSystem,
  path: string,
  f: (b: Uint8Array) => Uint8Array | undefined,
) {
  const bytes = fs.readFile(path)
  fs.writeFile(path, f(bytes) ?? bytes)
}

async function lsnsAfterOpen(fs: FaultInjectionFileSystem, recovery?: RecoveryMode) {
  const wal = await Wal.open(DIR, { fs, recovery })
  const lsns = collect(wal).map((r) => Number(r.lsn))
  return { wal, lsns }
}

describe('recovery: torn tail', () => {
  it('truncates a partial last record, reports it, and continues after the intact prefix', async () => {
    const fs = await logWith(5)
    edit(fs, seg(1), (b) => b.subarray(0, b.length - 10))
    const { wal, lsns } = await lsnsAfterOpen(fs)
    expect(lsns).toEqual([1, 2, 3, 4])
    const offset = putAt(4)
    expect(wal.recovery.dropped).toEqual([
      { file: seg(1), offset, bytesDropped: PUT - 10, reason: 'truncated-payload' },
    ])
    expect(fs.readFile(seg(1)).length).toBe(offset)
    expect(await wal.append(put(9))).toBe(5n)
    await wal.close()
    // The repair is durable: a power cut right after does not bring the torn bytes back.
    const again = await Wal.open(DIR, { fs: fs.powerCut({ mode: 'drop' }) })
    expect(collect(again).map((r) => Number(r.lsn))).toEqual([1, 2, 3, 4, 5])
    expect(again.recovery.dropped).toEqual([])
    await again.close()
  })

  it('accepts zero padding after the last record (file extended, data never written)', async () => {
    const fs = await logWith(3)
    edit(fs, seg(1), (b) => {
      const out = new Uint8Array(b.length + 8192)
      out.set(b)
      return out
    })
    const { wal, lsns } = await lsnsAfterOpen(fs)
    expect(lsns).toEqual([1, 2, 3])
    expect(wal.recovery.dropped).toEqual([]) // padding is not damage
    expect(await wal.append(put(9))).toBe(4n)
    await wal.close()
    const again = await Wal.open(DIR, { fs, recovery: 'absolute-consistency' })
    expect(collect(again).map((r) => Number(r.lsn))).toEqual([1, 2, 3, 4])
    await again.close()
  })

  it('accepts zero padding at the end of a sealed segment too', async () => {
    const fs = await logWith(3)
    const next = await Wal.open(DIR, { fs }) // segment 2
    await next.append(put(7))
    await next.close()
    edit(fs, seg(1), (b) => {
      const out = new Uint8Array(b.length + 100)
      out.set(b)
      return out
    })
    const { wal, lsns } = await lsnsAfterOpen(fs, 'absolute-consistency')
    expect(lsns).toEqual([1, 2, 3, 4])
    await wal.close()
  })

  it('a crash leaves the preallocated padding, which the next open accepts', async () => {
    const fs = new FaultInjectionFileSystem()
    const wal = await Wal.open(DIR, { fs })
    for (let i = 1; i <= 3; i++) await wal.append(put(i))
    // The file was extended ahead of the writes (no close: a crash).
    expect(fs.readFile(seg(1)).length).toBeGreaterThan(SEGMENT_HEADER_BYTES + 3 * REC)
    const after = fs.powerCut({ mode: 'drop' })
    const { wal: again, lsns } = await lsnsAfterOpen(after, 'absolute-consistency')
    expect(lsns).toEqual([1, 2, 3])
    expect(again.recovery.dropped).toEqual([])
    // The open cut the padding off (segment 1 is sealed now).
    expect(after.readFile(seg(1)).length).toBe(SEGMENT_HEADER_BYTES + 3 * REC)
    await again.close()
    // So did close (segment 2, where the new open appended).
    expect(after.readFile(seg(2)).length).toBe(SEGMENT_HEADER_BYTES)
  })

  it('truncates a last record with a bad checksum', async () => {
    const fs = await logWith(3)
    edit(fs, seg(1), (b) => {
      flipBits(b, b.length - 1, 0xff)
      return b
    })
    const { wal, lsns } = await lsnsAfterOpen(fs)
    expect(lsns).toEqual([1, 2])
    expect(wal.recovery.dropped[0]).toMatchObject({ reason: 'checksum-mismatch' })
    await wal.close()
  })

  it("'absolute-consistency' refuses even a torn tail", async () => {
    const fs = await logWith(3)
    edit(fs, seg(1), (b) => b.subarray(0, b.length - 1))
    await expect(Wal.open(DIR, { fs, recovery: 'absolute-consistency' })).rejects.toMatchObject({
      code: 'ERR_CORRUPTION',
      file: seg(1),
      offset: putAt(2),
      reason: 'truncated-payload',
    })
    expect(fs.readFile(seg(1)).length).toBe(SEGMENT_HEADER_BYTES + 3 * REC - 1)
  })
})

describe('recovery: corruption', () => {
  it('a bad record followed by valid ones is ERR_CORRUPTION with file and offset', async () => {
    const fs = await logWith(5)
    const offset = putAt(2)
    edit(fs, seg(1), (b) => {
      flipBits(b, offset + 20, 4)
      return b
    })
    const err = await Wal.open(DIR, { fs }).catch((e) => e)
    expect(err).toMatchObject({
      name: 'WalError',
      code: 'ERR_CORRUPTION',
      file: seg(1),
      offset,
      reason: 'checksum-mismatch',
    })
    expect(err.message).toContain(seg(1))
    expect(err.message).toContain(String(offset))
    // Nothing was changed on disk.
    expect(fs.listFiles()).toEqual([seg(1)])
  })

  it("'point-in-time' keeps the prefix before the first bad record and drops the rest", async () => {
    const fs = new FaultInjectionFileSystem()
    const w = await Wal.open(DIR, { fs })
    for (let i = 1; i <= 5; i++) await w.append(put(i))
    await w.close()
    const w2 = await Wal.open(DIR, { fs })
    for (let i = 6; i <= 8; i++) await w2.append(put(i))
    await w2.close()
    const offset = putAt(2)
    edit(fs, seg(1), (b) => {
      flipBits(b, offset + 20, 4)
      return b
    })
    const size2 = fs.readFile(seg(2)).length
    const { wal, lsns } = await lsnsAfterOpen(fs, 'point-in-time')
    expect(lsns).toEqual([1, 2])
    expect(wal.recovery.dropped).toEqual([
      { file: seg(1), offset, bytesDropped: 3 * REC - WM, reason: 'checksum-mismatch' },
      { file: seg(2), offset: 0, bytesDropped: size2, reason: 'after-corruption' },
    ])
    // LSNs that may exist in dropped data are never handed out again.
    expect(await wal.append(put(1))).toBe(9n)
    await wal.close()
    const { wal: clean, lsns: after } = await lsnsAfterOpen(fs)
    expect(after).toEqual([1, 2, 9])
    expect(clean.recovery.dropped).toEqual([])
    await clean.close()
  })

  it('damage at the end of a sealed (not the newest) segment is corruption', async () => {
    const fs = await logWith(3)
    const w = await Wal.open(DIR, { fs })
    await w.append(put(4))
    await w.close()
    edit(fs, seg(1), (b) => b.subarray(0, b.length - 3))
    await expect(Wal.open(DIR, { fs })).rejects.toMatchObject({
      code: 'ERR_CORRUPTION',
      file: seg(1),
    })
  })

  it('bad segment magic', async () => {
    const fs = await logWith(2)
    edit(fs, seg(1), (b) => {
      b[1] = 0
      return b
    })
    await expect(Wal.open(DIR, { fs })).rejects.toMatchObject({
      code: 'ERR_CORRUPTION',
      file: seg(1),
      offset: 0,
      reason: 'bad-segment-header',
    })
    const { wal, lsns } = await lsnsAfterOpen(fs, 'point-in-time')
    expect(lsns).toEqual([])
    expect(wal.recovery.dropped[0]).toMatchObject({ file: seg(1), reason: 'bad-segment-header' })
    await wal.close()
  })

  it('a file too short to hold a header', async () => {
    const fs = await logWith(0)
    fs.writeFile(seg(2), new Uint8Array(10))
    await expect(Wal.open(DIR, { fs })).rejects.toMatchObject({
      reason: 'bad-segment-header',
      file: seg(2),
    })
  })

  it('unsupported version, in every recovery mode', async () => {
    const fs = await logWith(2)
    edit(fs, seg(1), (b) => {
      new DataView(b.buffer, b.byteOffset).setUint16(HDR_VERSION, FORMAT_VERSION + 1, true)
      return b
    })
    for (const recovery of [
      'tolerate-torn-tail',
      'absolute-consistency',
      'point-in-time',
    ] as const) {
      await expect(Wal.open(DIR, { fs, recovery })).rejects.toMatchObject({
        code: 'ERR_UNSUPPORTED_VERSION',
        file: seg(1),
      })
    }
  })

  it('missing middle segment', async () => {
    const fs = new FaultInjectionFileSystem()
    for (let round = 0; round < 3; round++) {
      const w = await Wal.open(DIR, { fs })
      await w.append(put(round))
      await w.close()
    }
    const files = fs.listFiles()
    const copy = new FaultInjectionFileSystem()
    for (const f of files) if (f !== seg(2)) copy.writeFile(f, fs.readFile(f))
    await expect(Wal.open(DIR, { fs: copy })).rejects.toMatchObject({
      code: 'ERR_CORRUPTION',
      file: seg(3),
      reason: 'missing-segment',
    })
  })

  it('missing first segments (not covered by a checkpoint)', async () => {
    const fs = new FaultInjectionFileSystem()
    for (let round = 0; round < 2; round++) {
      const w = await Wal.open(DIR, { fs })
      await w.append(put(round))
      await w.close()
    }
    const copy = new FaultInjectionFileSystem()
    for (const f of fs.listFiles()) if (f !== seg(1)) copy.writeFile(f, fs.readFile(f))
    await expect(Wal.open(DIR, { fs: copy })).rejects.toMatchObject({
      reason: 'missing-segment',
      file: seg(2),
    })
  })

  it('LSN going backwards between segments', async () => {
    const fs = await logWith(4)
    // Segment 2 claims the previous one ended at LSN 3 (it ends at 5).
    const w = new Uint8Array(
      encodeSegmentHeader({ segmentId: 2, prevEndLsn: 3, baseLsn: 3, checkpointLsn: 0 }),
    )
    fs.writeFile(seg(2), w)
    await expect(Wal.open(DIR, { fs })).rejects.toMatchObject({
      code: 'ERR_CORRUPTION',
      file: seg(2),
      reason: 'lsn-out-of-order',
    })
  })

  it('a segment copied under another name', async () => {
    const fs = await logWith(2)
    fs.writeFile(seg(2), fs.readFile(seg(1)))
    await expect(Wal.open(DIR, { fs })).rejects.toMatchObject({
      file: seg(2),
      reason: 'bad-segment-header',
    })
  })
})

describe('recovery: leftovers', () => {
  it('removes temporary files of an interrupted segment creation and ignores unknown files', async () => {
    const fs = await logWith(2)
    fs.writeFile(`${seg(7)}.tmp`, new Uint8Array(3))
    fs.writeFile(`${DIR}/LOCK`, new Uint8Array(1))
    const { wal, lsns } = await lsnsAfterOpen(fs)
    expect(lsns).toEqual([1, 2])
    expect(wal.recovery.removedFiles).toEqual([`${seg(7)}.tmp`])
    expect(fs.listFiles()).toEqual([seg(1), seg(8), `${DIR}/LOCK`])
    await wal.close()
  })

  it('removes segments a checkpoint covers even if damaged (interrupted deletion)', async () => {
    const fs = new FaultInjectionFileSystem()
    const w = await Wal.open(DIR, { fs, segmentBytes: 4096 })
    for (let i = 1; i <= 200; i++) await w.append(put(i, 100))
    const keep = fs.listFiles()
    await w.checkpoint(150n)
    await w.close()
    // Put back the deleted segments, one of them damaged.
    const restored = new FaultInjectionFileSystem()
    for (const f of fs.listFiles()) restored.writeFile(f, fs.readFile(f))
    const old = keep.filter((f) => !fs.listFiles().includes(f))
    expect(old.length).toBeGreaterThan(2)
    for (const f of old) restored.writeFile(f, new Uint8Array(1000).fill(0x33))
    const wal = await Wal.open(DIR, { fs: restored })
    expect(collect(wal).map((r) => Number(r.lsn))).toEqual(
      Array.from({ length: 50 }, (_, i) => 151 + i),
    )
    expect(wal.recovery.removedFiles).toEqual(old)
    expect(restored.listFiles().filter((f) => old.includes(f))).toEqual([])
    await wal.close()
  })

  it('recovers an empty directory and creates a missing one', async () => {
    const fs = new FaultInjectionFileSystem()
    fs.mkdir(DIR)
    const wal = await Wal.open(DIR, { fs })
    expect(wal.recovery).toMatchObject({ segments: 0, records: 0, lastLsn: 0n, nextLsn: 1n })
    await wal.close()
    const nested = await Wal.open('/x/y/z', { fs })
    expect(fs.listFiles()).toContain(`/x/y/z/${segmentFileName(1)}`)
    await nested.close()
  })
})
