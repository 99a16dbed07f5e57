import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  BAD_CHECKSUM,
  BAD_KEY,
  BAD_LSN,
  BAD_TRUNCATED_HEADER,
  BAD_TRUNCATED_VALUE,
  BAD_TYPE,
  describeRecordStatus,
  readKey,
  readLsn,
  readType,
  readValueLength,
  recordSize,
  validateRecord,
  writeRecord,
} from './data-record.js'
import { TYPE_PUT, TYPE_TOMBSTONE } from './format.js'
import { writeSegmentHeader } from './segment-header.js'

function image(size = 256): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(size)
  return { bytes, view: new DataView(bytes.buffer) }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('data record', () => {
  it('writes the bytes of the worked example in docs/storage-format.md', () => {
    const { bytes, view } = image(96)
    writeSegmentHeader(bytes, 1)
    const second = writeRecord(bytes, view, 16, TYPE_PUT, 1, 42, new Uint8Array([0x68, 0x69]))
    expect(second).toBe(43)
    const end = writeRecord(bytes, view, second, TYPE_TOMBSTONE, 2, 7, undefined)
    expect(end).toBe(68)
    expect(hex(bytes.subarray(0, end))).toBe(
      '41584453010000000100000003bcf6ba' +
        '88dc9ce2020000000101000000000000' +
        '0000000000000045406869e26c338200' +
        '00000002020000000000000000000000' +
        '00001c40',
    )
  })

  it('round-trips fields and validates what it wrote', () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.option(fc.uint8Array({ maxLength: 600 }), { nil: undefined }),
        (key, lsn, value) => {
          const { bytes, view } = image(700)
          const type = value === undefined ? TYPE_TOMBSTONE : TYPE_PUT
          const end = writeRecord(bytes, view, 3, type, lsn, key, value)
          expect(end - 3).toBe(recordSize(value?.length ?? 0))
          expect(validateRecord(bytes, view, 3, end)).toBe(end - 3)
          expect(readType(bytes, 3)).toBe(type)
          expect(readLsn(view, 3)).toBe(lsn)
          expect(Object.is(readKey(view, 3), key)).toBe(true)
          expect(readValueLength(bytes, 3)).toBe(value?.length ?? 0)
        },
      ),
    )
  })

  it('detects every single-bit flip', () => {
    const { bytes, view } = image(64)
    const end = writeRecord(bytes, view, 0, TYPE_PUT, 77, -3.5, new Uint8Array([1, 2, 3, 4, 5]))
    for (let bit = 0; bit < end * 8; bit++) {
      bytes[bit >> 3]! ^= 1 << (bit & 7)
      expect(validateRecord(bytes, view, 0, end)).toBeLessThan(0)
      bytes[bit >> 3]! ^= 1 << (bit & 7)
    }
    expect(validateRecord(bytes, view, 0, end)).toBe(end)
  })

  it('names each kind of damage', () => {
    const { bytes, view } = image(64)
    const end = writeRecord(bytes, view, 0, TYPE_PUT, 5, 1, new Uint8Array([9, 9]))
    expect(validateRecord(bytes, view, 0, 20)).toBe(BAD_TRUNCATED_HEADER)
    expect(validateRecord(bytes, view, 0, end - 1)).toBe(BAD_TRUNCATED_VALUE)
    expect(validateRecord(new Uint8Array(40), new DataView(new ArrayBuffer(40)), 0, 40)).toBe(
      BAD_TYPE,
    )
    bytes[end - 1] = 0
    expect(validateRecord(bytes, view, 0, end)).toBe(BAD_CHECKSUM)

    const t = image(64)
    writeRecord(t.bytes, t.view, 0, TYPE_TOMBSTONE, 5, 1, undefined)
    t.view.setUint32(4, 1, true) // a tombstone claiming a value
    expect(validateRecord(t.bytes, t.view, 0, 64)).toBe(BAD_TYPE)

    const k = image(64)
    const kEnd = writeRecord(k.bytes, k.view, 0, TYPE_PUT, 5, Number.NaN, undefined)
    expect(validateRecord(k.bytes, k.view, 0, kEnd)).toBe(BAD_KEY)
    const l = image(64)
    const lEnd = writeRecord(l.bytes, l.view, 0, TYPE_PUT, 0, 1, undefined)
    expect(validateRecord(l.bytes, l.view, 0, lEnd)).toBe(BAD_LSN)
    for (const s of [-1, -2, -3, -4, -5, -6, -99]) expect(describeRecordStatus(s)).toBeTruthy()
  })
})
