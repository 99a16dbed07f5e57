/**
 * Zeros written ahead of the frames (segment-files.ts, ZERO_FILL_BYTES): the bytes after the last
 * frame read as zeros whether a fill reached them or not, a fill never goes past the file's
 * preallocated size (so never past `segmentBytes`), and a crash after a fill recovers like one
 * after preallocation.
 */
import { describe, expect, it } from 'vitest'
import { SEGMENT_HEADER_BYTES, ZERO_FILL_BYTES } from '../src/format.js'
import { Wal } from '../src/index.js'
import { FaultInjectionFileSystem } from '../src/testing.js'
import { collect, countWrites, put } from './helpers.js'

const DIR = '/db/wal'
const SEG1 = `${DIR}/00000000000000000001.wal`

describe('zero fill ahead of the frames', () => {
  it('writes real zeros after the frames, inside the preallocated size', async () => {
    const fs = new FaultInjectionFileSystem()
    const wal = await Wal.open(DIR, { fs })
    const writes = countWrites(fs)
    for (let i = 0; i < 300; i++) await wal.append(put(i, 200))
    const end = wal.stats().bytesWritten
    const file = fs.readFile(SEG1)
    expect(file.length).toBeGreaterThan(end + ZERO_FILL_BYTES / 2)
    expect(file.subarray(end).every((b) => b === 0)).toBe(true)
    // About 70 KiB of frames: the first fill, then one more once less than half a fill was left.
    expect(writes.zeroFills).toBe(2)
    await wal.close()
    // close() cuts the padding, written zeros included.
    expect(fs.readFile(SEG1).length).toBe(end)
  })

  it('never writes past segmentBytes', async () => {
    const fs = new FaultInjectionFileSystem()
    const segmentBytes = 8192
    const wal = await Wal.open(DIR, { fs, segmentBytes })
    for (let i = 0; i < 40; i++) {
      await wal.append(put(i, 100))
      const segs = fs.readdir(DIR).filter((n) => n.endsWith('.wal'))
      for (const name of segs)
        expect(fs.readFile(`${DIR}/${name}`).length).toBeLessThanOrEqual(segmentBytes)
    }
    await wal.close()
  })

  it('a power cut after a fill recovers every durable record', async () => {
    const fs = new FaultInjectionFileSystem()
    const wal = await Wal.open(DIR, { fs })
    for (let i = 0; i < 50; i++) await wal.append(put(i, 64))
    const after = fs.powerCut({ mode: 'drop' })
    const again = await Wal.open(DIR, { fs: after })
    expect(collect(again).map((r) => r.key)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    expect(again.recovery.dropped).toEqual([])
    expect(after.readFile(SEG1).length).toBeGreaterThan(SEGMENT_HEADER_BYTES)
    await again.close()
  })
})
