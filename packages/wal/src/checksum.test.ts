import { crc32 as zlibCrc32 } from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { crc32 } from './checksum.js'

describe('crc32', () => {
  it('matches the check value of CRC-32/ISO-HDLC', () => {
    const ascii = new TextEncoder().encode('123456789')
    expect(crc32(ascii, 0, ascii.length)).toBe(0xcbf43926)
  })

  it('equals zlib.crc32 on any range, below and above the native threshold', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length === 0 ? 0 : a % (bytes.length + 1)
        const end = start + (bytes.length === 0 ? 0 : b % (bytes.length - start + 1))
        expect(crc32(bytes, start, end)).toBe(zlibCrc32(bytes.subarray(start, end)))
      }),
      { numRuns: 300 },
    )
  })
})
