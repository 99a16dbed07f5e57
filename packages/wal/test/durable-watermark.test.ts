import { describe, expect, it } from 'vitest'
import { type SyncMode, Wal } from '../src/index.js'
import { encodePut } from '../src/record-codec.js'
import { encodeSegmentHeader } from '../src/segment.js'
import { FaultInjectionFileSystem } from '../src/testing.js'
import { collect, countWrites, flipBits, put } from './helpers.js'

const DIR = '/db/wal'
const SEG1 = `${DIR}/00000000000000000001.wal`
/** The durable-watermark frame that starts every group write. */
const WM = 25

/** A one-segment log built by `build`; `starts[i]` is where the i-th write began. */
async function logOf(
  sync: SyncMode,
  build: (wal: Wal, mark: () => void) => Promise<void>,
  close = true,
): Promise<{ bytes: Uint8Array; starts: number[] }> {
  const fs = new FaultInjectionFileSystem()
  const wal = await Wal.open(DIR, { fs, sync })
  const starts: number[] = []
  await build(wal, () => starts.push(wal.stats().bytesWritten))
  // Without close, the bytes are what the page cache holds (a power cut may keep all of them).
  if (close) await wal.close()
  return { bytes: fs.readFile(SEG1), starts }
}

function imageOf(bytes: Uint8Array): FaultInjectionFileSystem {
  const fs = new FaultInjectionFileSystem()
  fs.writeFile(SEG1, bytes)
  return fs
}

function damaged(bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice()
  flipBits(copy, at, 0x10)
  return copy
}

describe('durable watermark: the writer', () => {
  it('starts every group write with a watermark frame, in the same write() and fsync', async () => {
    const fs = new FaultInjectionFileSystem()
    const wal = await Wal.open(DIR, { fs })
    const writes = countWrites(fs)
    const syncs = fs.opCounts.sync
    const starts: number[] = []
    for (let i = 1; i <= 5; i++) {
      starts.push(wal.stats().bytesWritten)
      await wal.append(put(i))
    }
    expect(writes.frames).toBe(5)
    expect(writes.zeroFills).toBe(1) // zeros written ahead once, after the first group
    expect(fs.opCounts.sync - syncs).toBe(5)
    const bytes = fs.readFile(SEG1)
    const view = new DataView(bytes.buffer, bytes.byteOffset)
    starts.forEach((at, i) => {
      expect(bytes[at + 8]).toBe(5) // type 5
      // Durable LSN: the previous append (each was fdatasynced before the next was written);
      // durable end: where this write starts.
      expect(view.getUint32(at + 9, true)).toBe(i)
      expect(view.getUint32(at + 17, true)).toBe(at)
    })
    expect(collect(wal)).toEqual([]) // replay is of what open found: nothing
    await wal.close()
    const again = await Wal.open(DIR, { fs })
    expect(collect(again).map((r) => r.lsn)).toEqual([1n, 2n, 3n, 4n, 5n]) // watermarks skipped
    await again.close()
  })
})

describe('durable watermark: recovery of the newest segment', () => {
  it('damage at or below a later watermark is an acknowledged record: ERR_CORRUPTION', async () => {
    const { bytes, starts } = await logOf('always', async (wal, mark) => {
      for (let i = 1; i <= 4; i++) {
        mark()
        await wal.append(put(i, 40))
      }
    })
    // The put of LSN 2; write 3's intact watermark says LSN 2 was durable.
    const at = (starts[1] as number) + WM
    const image = damaged(bytes, at + 30)
    for (const recovery of ['tolerate-torn-tail', 'absolute-consistency'] as const) {
      const fs = imageOf(image)
      const err = await Wal.open(DIR, { fs, recovery }).catch((e) => e)
      expect(err).toMatchObject({
        code: 'ERR_CORRUPTION',
        file: SEG1,
        offset: at,
        reason: 'checksum-mismatch',
      })
      expect(fs.readFile(SEG1)).toEqual(image) // nothing changed
    }
    const fs = imageOf(image)
    const wal = await Wal.open(DIR, { fs, recovery: 'point-in-time' })
    expect(collect(wal).map((r) => r.lsn)).toEqual([1n])
    expect(wal.recovery.dropped).toEqual([
      { file: SEG1, offset: at, bytesDropped: image.length - at, reason: 'checksum-mismatch' },
    ])
    await wal.close()
  })

  it('damage above every watermark is a torn tail: truncated with the intact frames after it', async () => {
    // sync 'none': LSNs 1-2 made durable by sync(); 3, 4, 5 written (three writes) but unsynced,
    // their watermarks all saying "durable up to 2". A power cut that kept 4 and 5 but tore 3.
    const { bytes, starts } = await logOf(
      'none',
      async (wal, mark) => {
        await wal.append(put(1))
        await wal.append(put(2))
        await wal.sync()
        for (let i = 3; i <= 5; i++) {
          mark()
          await wal.append(put(i, 40))
        }
      },
      false,
    )
    const write3 = starts[0] as number
    for (const at of [write3 + WM + 30, write3 + 12]) {
      // ... torn in the put of LSN 3, or in the watermark frame of its write.
      const image = damaged(bytes, at)
      const fs = imageOf(image)
      const wal = await Wal.open(DIR, { fs })
      expect(collect(wal).map((r) => r.lsn)).toEqual([1n, 2n])
      const cut = at >= write3 + WM ? write3 + WM : write3
      expect(wal.recovery.dropped).toEqual([
        { file: SEG1, offset: cut, bytesDropped: image.length - cut, reason: 'checksum-mismatch' },
      ])
      // LSNs 3-5 were never acknowledged: they are handed out again.
      expect(await wal.append(put(9))).toBe(3n)
      await wal.close()
      await expect(
        Wal.open(DIR, { fs: imageOf(image), recovery: 'absolute-consistency' }),
      ).rejects.toMatchObject({ code: 'ERR_CORRUPTION', offset: cut })
    }
  })

  it('a damaged checkpoint-only write is covered by the durable end of the next write', async () => {
    // The checkpoint's write holds no operation, so the next write's durable LSN (2) is below the
    // damage's first affected LSN (3); its durable end still proves the bytes were durable.
    const { bytes, starts } = await logOf('always', async (wal, mark) => {
      await wal.append(put(1))
      await wal.append(put(2))
      mark()
      await wal.checkpoint(1n)
      await wal.append(put(3))
    })
    const at = (starts[0] as number) + WM
    const err = await Wal.open(DIR, { fs: imageOf(damaged(bytes, at + 12)) }).catch((e) => e)
    expect(err).toMatchObject({ code: 'ERR_CORRUPTION', offset: at })
  })
})

describe('durable watermark: version-1 segments keep the version-1 rule', () => {
  /** A version-1 segment of three puts (no watermarks), and where each frame starts. */
  function v1Segment(): { bytes: Uint8Array; frames: number[] } {
    const buf = new Uint8Array(56 + 3 * 33)
    buf.set(
      encodeSegmentHeader({
        segmentId: 1,
        prevEndLsn: 1,
        baseLsn: 1,
        checkpointLsn: 0,
        version: 1,
      }),
    )
    const view = new DataView(buf.buffer)
    const frames: number[] = []
    let at = 56
    for (let lsn = 1; lsn <= 3; lsn++) {
      frames.push(at)
      at = encodePut(buf, view, at, lsn, lsn, new Uint8Array(8).fill(lsn))
    }
    return { bytes: buf, frames }
  }

  it('damage followed by an intact frame is corruption; a damaged last frame is a torn tail', async () => {
    const { bytes, frames } = v1Segment()
    await expect(
      Wal.open(DIR, { fs: imageOf(damaged(bytes, (frames[1] as number) + 20)) }),
    ).rejects.toMatchObject({ code: 'ERR_CORRUPTION', offset: frames[1] })
    const wal = await Wal.open(DIR, { fs: imageOf(damaged(bytes, (frames[2] as number) + 20)) })
    expect(collect(wal).map((r) => r.lsn)).toEqual([1n, 2n])
    expect(wal.recovery.dropped[0]).toMatchObject({ offset: frames[2] })
    await wal.close()
  })

  it('a watermark frame in a version-1 segment is damage (type 5 did not exist)', async () => {
    const { bytes } = await logOf('always', async (wal) => {
      await wal.append(put(1))
    })
    const v1 = bytes.slice()
    v1.set(
      encodeSegmentHeader({
        segmentId: 1,
        prevEndLsn: 1,
        baseLsn: 1,
        checkpointLsn: 0,
        version: 1,
      }),
    )
    await expect(
      Wal.open(DIR, { fs: imageOf(v1), recovery: 'absolute-consistency' }),
    ).rejects.toMatchObject({ code: 'ERR_CORRUPTION', offset: 56, reason: 'bad-record-type' })
  })
})
