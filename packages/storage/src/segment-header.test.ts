import { crc32 } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { SEGMENT_FLAG_INGEST } from './format.js'
import { checkSegmentHeader, segmentFlags, writeSegmentHeader } from './segment-header.js'

describe('segment header', () => {
  it('accepts what it writes and rejects the wrong id', () => {
    const b = new Uint8Array(16)
    writeSegmentHeader(b, 123456)
    expect(checkSegmentHeader(b, 16, 123456)).toBeUndefined()
    expect(checkSegmentHeader(b, 16, 7)).toMatch(/id/)
  })

  it('names each defect', () => {
    const good = new Uint8Array(16)
    writeSegmentHeader(good, 1)
    expect(checkSegmentHeader(good, 15, 1)).toMatch(/shorter/)
    const magic = good.slice()
    magic[0] = 0x42
    expect(checkSegmentHeader(magic, 16, 1)).toMatch(/magic/)
    const crc = good.slice()
    crc[9] = 1
    expect(checkSegmentHeader(crc, 16, 1)).toMatch(/checksum/)
    for (const [at, value, message] of [
      [4, 2, /version 2/],
      [6, 2, /flags/],
      [7, 1, /flags/],
    ] as const) {
      const b = new Uint8Array(16)
      writeSegmentHeader(b, 1)
      b[at] = value
      // re-seal the header checksum so the field itself is what fails
      const fixed = new Uint8Array(16)
      fixed.set(b)
      new DataView(fixed.buffer).setUint32(12, crc32(fixed.subarray(0, 12)), true)
      expect(checkSegmentHeader(fixed, 16, 1)).toMatch(message)
    }
  })

  it('carries the ingest flag (and no other)', () => {
    const b = new Uint8Array(16)
    writeSegmentHeader(b, 9, SEGMENT_FLAG_INGEST)
    expect(checkSegmentHeader(b, 16, 9)).toBeUndefined()
    expect(segmentFlags(b)).toBe(SEGMENT_FLAG_INGEST)
    writeSegmentHeader(b, 9)
    expect(segmentFlags(b)).toBe(0)
    writeSegmentHeader(b, 9, 4)
    expect(checkSegmentHeader(b, 16, 9)).toMatch(/flags/)
  })
})
