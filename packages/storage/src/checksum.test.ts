import { crc32 as zlibCrc32 } from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { crc32 } from './checksum.js'

describe('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'), 0, 9)).toBe(0xcbf43926)
    expect(crc32(new Uint8Array(0), 0, 0)).toBe(0)
  })

  it('equals zlib.crc32 on every length around the zlib threshold, with offsets', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 1200 }),
        fc.nat(),
        fc.nat(),
        (bytes, a, b) => {
          const start = bytes.length === 0 ? 0 : a % bytes.length
          const end = start + (bytes.length === start ? 0 : b % (bytes.length - start + 1))
          expect(crc32(bytes, start, end)).toBe(zlibCrc32(bytes.subarray(start, end)))
        },
      ),
    )
  })

  it('continues a checksum across pieces', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(), (bytes, cut) => {
        const mid = bytes.length === 0 ? 0 : cut % bytes.length
        const whole = crc32(bytes, 0, bytes.length)
        expect(crc32(bytes, mid, bytes.length, crc32(bytes, 0, mid))).toBe(whole)
      }),
    )
  })
})
