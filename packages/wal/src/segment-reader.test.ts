import { describe, expect, it } from 'vitest'
import { flipBits } from '../test/helpers.js'
import { crc32 } from './checksum.js'
import { FRAME_TYPE, MAX_PAYLOAD_BYTES } from './format.js'
import {
  batchFrameBytes,
  encodeBatch,
  encodeCheckpoint,
  encodeDelete,
  encodeDurable,
  encodePut,
} from './record-codec.js'
import { durableMarkAfter, hasValidFrameAfter, scanFrames } from './segment-reader.js'
import { setU64 } from './u64.js'

/** Three frames: put lsn 1 (at 0), delete lsn 2 (at 29), put lsn 3 (at 54). */
function threeFrames(): { buf: Uint8Array; view: DataView; offsets: number[] } {
  const buf = new Uint8Array(256)
  const view = new DataView(buf.buffer)
  const offsets = [0]
  let at = encodePut(buf, view, 0, 1, 10, new Uint8Array([1, 2, 3, 4]))
  offsets.push(at)
  at = encodeDelete(buf, view, at, 2, 20)
  offsets.push(at)
  at = encodePut(buf, view, at, 3, 30, new Uint8Array([5, 6, 7, 8]))
  offsets.push(at)
  return { buf: buf.subarray(0, at), view, offsets }
}

/** Recomputes the CRC of the frame at `at` (to craft damage the checksum does not catch). */
function reseal(buf: Uint8Array, at: number, end: number): void {
  new DataView(buf.buffer, buf.byteOffset).setUint32(at, crc32(buf, at + 4, end), true)
}

describe('scanFrames: intact input', () => {
  it('accepts all frames and reports the next LSN', () => {
    const { buf } = threeFrames()
    expect(scanFrames(buf, 0, 1)).toEqual({
      validEnd: buf.length,
      endLsn: 4,
      checkpointLsn: 0,
      durableLsn: 0,
      durableEnd: 0,
      frames: 3,
      damage: undefined,
    })
  })

  it('accepts an empty segment body', () => {
    expect(scanFrames(new Uint8Array(0), 0, 7)).toEqual({
      validEnd: 0,
      endLsn: 7,
      checkpointLsn: 0,
      durableLsn: 0,
      durableEnd: 0,
      frames: 0,
      damage: undefined,
    })
  })
})

describe('scanFrames: one test per kind of damage', () => {
  it('checksum mismatch', () => {
    const { buf, offsets } = threeFrames()
    flipBits(buf, (offsets[1] as number) + 12, 0x10)
    expect(scanFrames(buf, 0, 1).damage).toEqual({
      offset: offsets[1],
      reason: 'checksum-mismatch',
      hard: false,
    })
  })

  it('truncated header', () => {
    const { buf, offsets } = threeFrames()
    const cut = buf.subarray(0, (offsets[2] as number) + 5)
    const scan = scanFrames(cut, 0, 1)
    expect(scan.damage).toEqual({ offset: offsets[2], reason: 'truncated-header', hard: false })
    expect(scan.endLsn).toBe(3)
  })

  it('truncated payload', () => {
    const { buf, offsets } = threeFrames()
    const cut = buf.subarray(0, buf.length - 1)
    expect(scanFrames(cut, 0, 1).damage).toEqual({
      offset: offsets[2],
      reason: 'truncated-payload',
      hard: false,
    })
  })

  it('bad record type (even under a valid checksum)', () => {
    const { buf, offsets } = threeFrames()
    const at = offsets[1] as number
    buf[at + FRAME_TYPE] = 9
    reseal(buf, at, offsets[2] as number)
    expect(scanFrames(buf, 0, 1).damage).toEqual({
      offset: at,
      reason: 'bad-record-type',
      hard: false,
    })
  })

  it('bad length (too large, or wrong for the type)', () => {
    const { buf, view, offsets } = threeFrames()
    view.setUint32((offsets[1] as number) + 4, MAX_PAYLOAD_BYTES + 1, true)
    expect(scanFrames(buf, 0, 1).damage?.reason).toBe('bad-length')
    view.setUint32((offsets[1] as number) + 4, 17, true)
    expect(scanFrames(buf, 0, 1).damage?.reason).toBe('bad-length')
    view.setUint32((offsets[1] as number) + 4, 3, true)
    expect(scanFrames(buf, 0, 1).damage?.reason).toBe('bad-length')
  })

  it('zero padding after the last frame is not damage', () => {
    const { buf, offsets } = threeFrames()
    const padded = new Uint8Array(buf.length + 4096)
    padded.set(buf)
    const scan = scanFrames(padded, 0, 1)
    expect(scan.damage).toBeUndefined()
    expect(scan.validEnd).toBe(buf.length)
    expect(scan.endLsn).toBe(4)
    // Fewer zero bytes than a frame header: padding too.
    const short = new Uint8Array((offsets[1] as number) + 4)
    short.set(buf.subarray(0, offsets[1]))
    expect(scanFrames(short, 0, 1)).toMatchObject({ validEnd: offsets[1], damage: undefined })
  })

  it('zeros followed by anything else are damage, not padding', () => {
    const { buf, offsets } = threeFrames()
    const copy = buf.slice()
    copy.fill(0, offsets[1] as number, copy.length - 1)
    expect(scanFrames(copy, 0, 1).damage).toEqual({
      offset: offsets[1],
      reason: 'bad-record-type',
      hard: false,
    })
  })

  it('LSN going backwards (valid checksum: hard damage)', () => {
    const { buf, view, offsets } = threeFrames()
    const at = offsets[2] as number
    setU64(view, at + 9, 2)
    reseal(buf, at, buf.length)
    expect(scanFrames(buf, 0, 1).damage).toEqual({
      offset: at,
      reason: 'lsn-out-of-order',
      hard: true,
    })
  })

  it('LSN skipping ahead', () => {
    const { buf, view, offsets } = threeFrames()
    const at = offsets[1] as number
    setU64(view, at + 9, 5)
    reseal(buf, at, offsets[2] as number)
    expect(scanFrames(buf, 0, 1).damage).toEqual({
      offset: at,
      reason: 'lsn-out-of-order',
      hard: true,
    })
  })

  it('non-finite key under a valid checksum is a bad payload', () => {
    const { buf, view, offsets } = threeFrames()
    view.setFloat64(17, Number.NaN, true)
    reseal(buf, 0, offsets[1] as number)
    expect(scanFrames(buf, 0, 1).damage).toEqual({ offset: 0, reason: 'bad-payload', hard: true })
  })

  it('malformed batch under a valid checksum is a bad payload', () => {
    const ops = [
      { type: 'put' as const, key: 1, value: new Uint8Array(3) },
      { type: 'delete' as const, key: 2 },
    ]
    const size = batchFrameBytes(ops)
    for (const mutate of [
      (v: DataView) => v.setUint32(9 + 8, 0, true), // count 0
      (v: DataView) => v.setUint32(9 + 8, 3, true), // more ops than bytes
      (v: DataView) => v.setUint8(9 + 12, 7), // unknown op type
      (v: DataView) => v.setUint32(9 + 12 + 9, 100, true), // value runs past the payload
      (v: DataView) => v.setUint32(9 + 12 + 9, 2, true), // ops end before the payload does
    ]) {
      const buf = new Uint8Array(size)
      const view = new DataView(buf.buffer)
      encodeBatch(buf, view, 0, 1, ops, size)
      mutate(view)
      reseal(buf, 0, size)
      expect(scanFrames(buf, 0, 1).damage).toEqual({ offset: 0, reason: 'bad-payload', hard: true })
    }
  })

  it('checkpoint frame whose next LSN disagrees with the log', () => {
    const buf = new Uint8Array(25)
    const view = new DataView(buf.buffer)
    encodeCheckpoint(buf, view, 0, 3, 9)
    expect(scanFrames(buf, 0, 9)).toMatchObject({ checkpointLsn: 3, damage: undefined })
    expect(scanFrames(buf, 0, 8).damage).toEqual({
      offset: 0,
      reason: 'lsn-out-of-order',
      hard: true,
    })
    encodeCheckpoint(buf, view, 0, 9, 9)
    expect(scanFrames(buf, 0, 9).damage?.reason).toBe('bad-payload')
  })
})

describe('hasValidFrameAfter', () => {
  it('finds an intact frame after damage, at any offset', () => {
    const { buf, offsets } = threeFrames()
    flipBits(buf, (offsets[1] as number) + 12, 1)
    expect(hasValidFrameAfter(buf, offsets[1] as number, 2)).toBe(true)
  })

  it('ignores frames with an LSN below the one expected (stale data)', () => {
    const { buf, offsets } = threeFrames()
    flipBits(buf, (offsets[1] as number) + 12, 1)
    expect(hasValidFrameAfter(buf, offsets[1] as number, 4)).toBe(false)
  })

  it('finds nothing in a torn tail or in zeros', () => {
    const { buf, offsets } = threeFrames()
    expect(hasValidFrameAfter(buf.subarray(0, buf.length - 1), offsets[2] as number, 3)).toBe(false)
    expect(hasValidFrameAfter(new Uint8Array(1000), 0, 1)).toBe(false)
  })
})

/** Watermark (durable 0, end 0) at 0, put LSN 1, watermark (durable 1, end 25), put LSN 2. */
function watermarkedFrames(): { buf: Uint8Array; view: DataView; offsets: number[] } {
  const buf = new Uint8Array(256)
  const view = new DataView(buf.buffer)
  const offsets = [0]
  let at = encodeDurable(buf, view, 0, 0, 0)
  offsets.push(at)
  at = encodePut(buf, view, at, 1, 10, new Uint8Array([1, 2]))
  offsets.push(at)
  at = encodeDurable(buf, view, at, 1, offsets[1] as number)
  offsets.push(at)
  at = encodePut(buf, view, at, 2, 20, new Uint8Array([3]))
  offsets.push(at)
  return { buf: buf.subarray(0, at), view, offsets }
}

describe('durable-watermark frames', () => {
  it('scan as frames without operations and report the largest watermark', () => {
    const { buf } = watermarkedFrames()
    expect(scanFrames(buf, 0, 1)).toEqual({
      validEnd: buf.length,
      endLsn: 3,
      checkpointLsn: 0,
      durableLsn: 1,
      durableEnd: 25,
      frames: 4,
      damage: undefined,
    })
  })

  it('are bad-record-type in a version-1 segment', () => {
    const { buf } = watermarkedFrames()
    expect(scanFrames(buf, 0, 1, 1).damage).toEqual({
      offset: 0,
      reason: 'bad-record-type',
      hard: false,
    })
  })

  it('claiming an LSN not yet written, or bytes at or after themselves, are bad payloads', () => {
    const { buf, view, offsets } = watermarkedFrames()
    const second = offsets[2] as number
    encodeDurable(buf, view, second, 2, 25) // LSN 2 comes after this frame
    expect(scanFrames(buf, 0, 1).damage).toEqual({
      offset: second,
      reason: 'bad-payload',
      hard: true,
    })
    encodeDurable(buf, view, second, 1, second + 1)
    expect(scanFrames(buf, 0, 1).damage?.reason).toBe('bad-payload')
    encodeDurable(buf, view, second, 1, second) // exactly up to itself is fine
    expect(scanFrames(buf, 0, 1).damage).toBeUndefined()
  })

  it('durableMarkAfter finds the largest intact watermark after damage, never a torn one', () => {
    const { buf, offsets } = watermarkedFrames()
    flipBits(buf, (offsets[1] as number) + 12, 1) // damage the first put
    expect(durableMarkAfter(buf, offsets[1] as number)).toEqual({ lsn: 1, end: 25 })
    flipBits(buf, (offsets[2] as number) + 12, 1) // and the second watermark
    expect(durableMarkAfter(buf, offsets[1] as number)).toEqual({ lsn: 0, end: 0 })
    expect(durableMarkAfter(new Uint8Array(1000), 0)).toEqual({ lsn: 0, end: 0 })
  })
})
