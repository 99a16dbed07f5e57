import { crc32 as zlibCrc32 } from 'node:zlib'
import fc from 'fast-check'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { crc32, crc32View } from './checksum.js'

/** A range of `bytes` from two arbitrary naturals. */
function rangeOf(bytes: Uint8Array, a: number, b: number): [number, number] {
  const start = bytes.length === 0 ? 0 : a % (bytes.length + 1)
  const end = start + (bytes.length === 0 ? 0 : b % (bytes.length - start + 1))
  return [start, end]
}

describe('crc32', () => {
  it('matches the check value of CRC-32/ISO-HDLC', () => {
    const ascii = new TextEncoder().encode('123456789')
    expect(crc32(ascii, 0, ascii.length)).toBe(0xcbf43926)
  })

  it('equals zlib.crc32 on any range, below and above the native threshold', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const [start, end] = rangeOf(bytes, a, b)
        expect(crc32(bytes, start, end)).toBe(zlibCrc32(bytes.subarray(start, end)))
      }),
      { numRuns: 300 },
    )
  })

  it('continues a checksum across pieces (both sides of the native threshold)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(), (bytes, cut) => {
        const mid = bytes.length === 0 ? 0 : cut % bytes.length
        const whole = crc32(bytes, 0, bytes.length)
        expect(crc32(bytes, mid, bytes.length, crc32(bytes, 0, mid))).toBe(whole)
      }),
    )
  })
})

// Node before 20.15 (and 22.0-22.1) has no zlib.crc32: the module must load and compute every
// length itself. Forced here by loading checksum.ts against a node:zlib without crc32.
describe('crc32 without zlib.crc32 (Node < 20.15)', () => {
  afterAll(() => {
    vi.doUnmock('node:zlib')
    vi.resetModules()
  })

  async function loadFallback(): Promise<typeof crc32> {
    vi.resetModules()
    vi.doMock('node:zlib', async (importOriginal) => {
      const actual = await importOriginal<typeof import('node:zlib')>()
      return { ...actual, crc32: undefined, default: { ...actual, crc32: undefined } }
    })
    const zlib = await import('node:zlib')
    expect((zlib as { crc32?: unknown }).crc32).toBeUndefined()
    return (await import('./checksum.js')).crc32
  }

  it('equals zlib.crc32 on random inputs of every size, with offsets', async () => {
    const fallback = await loadFallback()
    expect(fallback).not.toBe(crc32)
    const ascii = new TextEncoder().encode('123456789')
    expect(fallback(ascii, 0, ascii.length)).toBe(0xcbf43926)
    expect(fallback(new Uint8Array(0), 0, 0)).toBe(0)
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 5000 }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (bytes, a, b, cut) => {
          const [start, end] = rangeOf(bytes, a, b)
          const want = zlibCrc32(bytes.subarray(start, end))
          expect(fallback(bytes, start, end)).toBe(want)
          const mid = start + (cut % (end - start + 1))
          expect(fallback(bytes, mid, end, fallback(bytes, start, mid))).toBe(want)
        },
      ),
      { numRuns: 300 },
    )
    // Large inputs, which zlib.crc32 would have taken where it exists.
    for (const size of [255, 256, 511, 512, 513, 4096, 65_537, 1 << 20]) {
      const bytes = new Uint8Array(size)
      for (let i = 0; i < size; i++) bytes[i] = (i * 2654435761) >>> 24
      expect(fallback(bytes, 0, size)).toBe(zlibCrc32(bytes))
      expect(fallback(bytes, 3, size - 5)).toBe(zlibCrc32(bytes.subarray(3, size - 5)))
      expect(fallback(bytes, 100, size, zlibCrc32(bytes.subarray(0, 100)))).toBe(zlibCrc32(bytes))
    }
  })
})

describe('crc32View', () => {
  it('equals crc32 on every length, offset and starting value', () => {
    const buf = new Uint8Array(600)
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 131 + 7) & 255
    const view = new DataView(buf.buffer)
    for (let start = 0; start < 12; start++) {
      for (let end = start; end <= buf.length; end += 37) {
        expect(crc32View(view, start, end)).toBe(crc32(buf, start, end))
        expect(crc32View(view, start, end, 0x1234)).toBe(crc32(buf, start, end, 0x1234))
      }
    }
  })
})
