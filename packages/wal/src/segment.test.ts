import { describe, expect, it } from 'vitest'
import { flipBits } from '../test/helpers.js'
import { crc32 } from './checksum.js'
import {
  FORMAT_VERSION,
  HDR_BASE_LSN,
  HDR_CRC,
  HDR_VERSION,
  SEGMENT_HEADER_BYTES,
} from './format.js'
import {
  decodeSegmentHeader,
  encodeSegmentHeader,
  parseSegmentFileName,
  segmentFileName,
} from './segment.js'

const header = { segmentId: 7, prevEndLsn: 100, baseLsn: 120, checkpointLsn: 90 }

function reseal(buf: Uint8Array): void {
  new DataView(buf.buffer).setUint32(HDR_CRC, crc32(buf, 0, HDR_CRC), true)
}

describe('segment names', () => {
  it('are 20 digits and .wal, and parse back', () => {
    expect(segmentFileName(42)).toBe('00000000000000000042.wal')
    expect(parseSegmentFileName('00000000000000000042.wal')).toBe(42)
  })

  it('reject anything else', () => {
    for (const name of [
      '42.wal',
      '00000000000000000042.wal.tmp',
      'x0000000000000000042.wal',
      '00000000000000000000.wal',
      'LOCK',
    ]) {
      expect(parseSegmentFileName(name)).toBe(-1)
    }
  })
})

describe('segment header', () => {
  it('round-trips and is 56 bytes starting with the magic', () => {
    const buf = encodeSegmentHeader(header)
    expect(buf.length).toBe(SEGMENT_HEADER_BYTES)
    expect(new TextDecoder().decode(buf.subarray(0, 8))).toBe('ALEXWAL\n')
    expect(decodeSegmentHeader(buf, 7)).toEqual({
      ok: true,
      header: { ...header, version: FORMAT_VERSION },
    })
  })

  it('reads a version-1 header too, and says so', () => {
    const buf = encodeSegmentHeader({ ...header, version: 1 })
    expect(decodeSegmentHeader(buf, 7)).toEqual({ ok: true, header: { ...header, version: 1 } })
  })

  it('rejects version 0 as damage', () => {
    const buf = encodeSegmentHeader({ ...header, version: 0 })
    expect(decodeSegmentHeader(buf, 7)).toMatchObject({ ok: false, problem: 'fields' })
  })

  it('rejects a short file', () => {
    const r = decodeSegmentHeader(encodeSegmentHeader(header).subarray(0, 55), 7)
    expect(r).toMatchObject({ ok: false, problem: 'short' })
  })

  it('rejects a bad magic', () => {
    const buf = encodeSegmentHeader(header)
    buf[0] = 0x42
    expect(decodeSegmentHeader(buf, 7)).toMatchObject({ ok: false, problem: 'magic' })
  })

  it('reports a newer version as unsupported, not as damage', () => {
    const buf = encodeSegmentHeader(header)
    new DataView(buf.buffer).setUint16(HDR_VERSION, FORMAT_VERSION + 1, true)
    expect(decodeSegmentHeader(buf, 7)).toMatchObject({
      ok: false,
      problem: 'version',
      version: FORMAT_VERSION + 1,
    })
  })

  it('rejects a checksum mismatch', () => {
    const buf = encodeSegmentHeader(header)
    flipBits(buf, HDR_BASE_LSN, 1)
    expect(decodeSegmentHeader(buf, 7)).toMatchObject({ ok: false, problem: 'checksum' })
  })

  it('rejects a header of another segment (id not matching the file name)', () => {
    expect(decodeSegmentHeader(encodeSegmentHeader(header), 8)).toMatchObject({
      ok: false,
      problem: 'fields',
    })
  })

  it('rejects inconsistent LSN fields even with a valid checksum', () => {
    const buf = encodeSegmentHeader({ ...header, baseLsn: 99 })
    expect(decodeSegmentHeader(buf, 7)).toMatchObject({ ok: false, problem: 'fields' })
    const v0 = encodeSegmentHeader(header)
    new DataView(v0.buffer).setUint16(HDR_VERSION, 0, true)
    reseal(v0)
    expect(decodeSegmentHeader(v0, 7)).toMatchObject({ ok: false, problem: 'fields' })
  })
})
