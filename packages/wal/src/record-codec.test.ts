import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  FRAME_HEADER_BYTES,
  RECORD_BATCH,
  RECORD_CHECKPOINT,
  RECORD_DELETE,
  RECORD_PUT,
} from './format.js'
import {
  batchFrameBytes,
  CHECKPOINT_FRAME_BYTES,
  DELETE_FRAME_BYTES,
  encodeBatch,
  encodeCheckpoint,
  encodeDelete,
  encodePut,
  putFrameBytes,
} from './record-codec.js'
import { scanFrames } from './segment-reader.js'
import type { WalOp } from './types.js'
import { getU64, setU64 } from './u64.js'

function buffer(size: number): { buf: Uint8Array; view: DataView } {
  const buf = new Uint8Array(size)
  return { buf, view: new DataView(buf.buffer) }
}

describe('u64 helpers', () => {
  it('round-trip every safe integer and refuse larger ones', () => {
    const { view } = buffer(8)
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        setU64(view, 0, n)
        expect(getU64(view, 0)).toBe(n)
        expect(view.getBigUint64(0, true)).toBe(BigInt(n))
      }),
    )
    view.setBigUint64(0, 2n ** 53n, true)
    expect(getU64(view, 0)).toBe(-1)
  })
})

describe('frame encoding', () => {
  it('lays out a put as crc, length, type, lsn, key, value', () => {
    const value = new Uint8Array([9, 8, 7])
    const { buf, view } = buffer(putFrameBytes(3))
    expect(encodePut(buf, view, 0, 5, 1.5, value)).toBe(buf.length)
    expect(view.getUint32(4, true)).toBe(16 + 3)
    expect(buf[8]).toBe(RECORD_PUT)
    expect(getU64(view, 9)).toBe(5)
    expect(view.getFloat64(17, true)).toBe(1.5)
    expect([...buf.subarray(25)]).toEqual([9, 8, 7])
  })

  it('encodes delete, checkpoint and batch frames of the announced sizes', () => {
    const ops: WalOp[] = [
      { type: 'put', key: 1, value: new Uint8Array(4) },
      { type: 'delete', key: 2 },
    ]
    const bytes = batchFrameBytes(ops)
    const total = DELETE_FRAME_BYTES + CHECKPOINT_FRAME_BYTES + bytes
    const { buf, view } = buffer(total)
    let at = encodeDelete(buf, view, 0, 1, -3)
    expect(buf[8]).toBe(RECORD_DELETE)
    const cp = at
    at = encodeCheckpoint(buf, view, at, 1, 2)
    expect(buf[cp + 8]).toBe(RECORD_CHECKPOINT)
    const batch = at
    at = encodeBatch(buf, view, at, 2, ops, bytes)
    expect(at).toBe(total)
    expect(buf[batch + 8]).toBe(RECORD_BATCH)
    expect(view.getUint32(batch + 4, true)).toBe(bytes - FRAME_HEADER_BYTES)
    const scan = scanFrames(buf, 0, 1)
    expect(scan).toEqual({
      validEnd: total,
      endLsn: 4,
      checkpointLsn: 1,
      durableLsn: 0,
      durableEnd: 0,
      frames: 3,
      damage: undefined,
    })
  })

  it('frames any sequence of operations so that a scan accepts all of it', () => {
    const opArb = fc.oneof(
      fc.record({
        type: fc.constant('put' as const),
        key: fc.double({ noNaN: true, noDefaultInfinity: true }),
        value: fc.uint8Array({ maxLength: 40 }),
      }),
      fc.record({
        type: fc.constant('delete' as const),
        key: fc.double({ noNaN: true, noDefaultInfinity: true }),
      }),
    )
    fc.assert(
      fc.property(
        fc.array(fc.oneof(opArb, fc.array(opArb, { minLength: 1, maxLength: 5 })), {
          maxLength: 20,
        }),
        (items) => {
          const { buf, view } = buffer(64 * 1024)
          let at = 0
          let lsn = 10
          for (const item of items) {
            if (Array.isArray(item)) {
              at = encodeBatch(buf, view, at, lsn, item, batchFrameBytes(item))
              lsn += item.length
            } else if (item.type === 'put') {
              at = encodePut(buf, view, at, lsn++, item.key, item.value)
            } else {
              at = encodeDelete(buf, view, at, lsn++, item.key)
            }
          }
          const scan = scanFrames(buf.subarray(0, at), 0, 10)
          expect(scan.damage).toBeUndefined()
          expect(scan.validEnd).toBe(at)
          expect(scan.endLsn).toBe(lsn)
        },
      ),
      { numRuns: 200 },
    )
  })
})
