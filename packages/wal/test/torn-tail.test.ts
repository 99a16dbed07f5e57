import { describe, expect, it } from 'vitest'
import { Wal, type WalOp } from '../src/index.js'
import { FaultInjectionFileSystem } from '../src/testing.js'
import { collect, del, expected, type PlainRecord, put } from './helpers.js'

const DIR = '/db/wal'

interface Written {
  fs: FaultInjectionFileSystem
  file: string
  /**
   * Offset where each frame ends, with the records it carries: every write starts with a
   * durable-watermark frame (25 bytes, no record), then the appended frame.
   */
  frames: Array<{ end: number; records: PlainRecord[] }>
}

/** A one-segment log of puts, deletes and batches of different sizes; frame ends recorded. */
async function writeLog(): Promise<Written> {
  const fs = new FaultInjectionFileSystem()
  const wal = await Wal.open(DIR, { fs })
  const file = fs.listFiles()[0] as string
  const items: Array<WalOp | WalOp[]> = [
    put(1, 3),
    del(2),
    [put(3, 5), del(4), put(5, 0)],
    put(6, 40),
    [del(7)],
    put(8, 1),
  ]
  const frames: Written['frames'] = []
  let lsn = 1n
  for (const item of items) {
    frames.push({ end: wal.stats().bytesWritten + 25, records: [] })
    if (Array.isArray(item)) {
      await wal.appendBatch(item)
      frames.push({ end: wal.stats().bytesWritten, records: item.map((op) => expected(op, lsn++)) })
    } else {
      await wal.append(item)
      frames.push({ end: wal.stats().bytesWritten, records: [expected(item, lsn++)] })
    }
  }
  await wal.close()
  return { fs, file, frames }
}

describe('torn tail at every byte offset', () => {
  it('replays exactly the complete records before the cut, and reports the cut bytes', async () => {
    const { fs, file, frames } = await writeLog()
    const full = fs.readFile(file)
    const headerEnd = 56
    let cuts = 0
    for (let cut = headerEnd; cut <= full.length; cut++) {
      const image = new FaultInjectionFileSystem()
      image.writeFile(file, full.slice(0, cut))
      const wal = await Wal.open(DIR, { fs: image })
      const complete = frames.filter((f) => f.end <= cut)
      const boundary =
        complete.length === 0 ? headerEnd : (complete[complete.length - 1] as { end: number }).end
      expect(collect(wal)).toEqual(complete.flatMap((f) => f.records))
      if (cut === boundary) {
        expect(wal.recovery.dropped).toEqual([])
      } else {
        expect(wal.recovery.dropped).toEqual([
          {
            file,
            offset: boundary,
            bytesDropped: cut - boundary,
            reason: expect.stringMatching(/^truncated-/),
          },
        ])
      }
      // The log continues right after the last complete record.
      const nextLsn = BigInt(complete.flatMap((f) => f.records).length + 1)
      expect(await wal.append(put(99))).toBe(nextLsn)
      await wal.close()
      const again = await Wal.open(DIR, { fs: image, recovery: 'absolute-consistency' })
      expect(collect(again).at(-1)?.lsn).toBe(nextLsn)
      await again.close()
      cuts++
    }
    expect(cuts).toBe(full.length - headerEnd + 1)
  })

  it('treats a torn tail overwritten with garbage or zeros the same way', async () => {
    const { fs, file, frames } = await writeLog()
    const full = fs.readFile(file)
    const last = frames[frames.length - 1] as { end: number }
    const lastStart = (frames[frames.length - 2] as { end: number }).end
    for (let cut = lastStart; cut < last.end; cut++) {
      for (const fill of [0x00, 0xff, 0x5a]) {
        const bytes = full.slice()
        bytes.fill(fill, cut)
        const image = new FaultInjectionFileSystem()
        image.writeFile(file, bytes)
        const wal = await Wal.open(DIR, { fs: image })
        expect(collect(wal)).toEqual(frames.slice(0, -1).flatMap((f) => f.records))
        if (fill === 0 && cut === lastStart) {
          // Zeros from a frame boundary to the end are padding, not a torn record.
          expect(wal.recovery.dropped).toEqual([])
        } else {
          expect(wal.recovery.dropped[0]).toMatchObject({ file, offset: lastStart })
        }
        await wal.close()
      }
    }
  })
})
