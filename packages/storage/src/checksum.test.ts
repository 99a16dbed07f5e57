import { crc32 as zlibCrc32 } from 'node:zlib'
import fc from 'fast-check'
import { afterAll, describe, expect, it, vi } from 'vitest'
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

  it('equals zlib.crc32 on random inputs of every size, with offsets and continuation', async () => {
    const fallback = await loadFallback()
    expect(fallback).not.toBe(crc32)
    expect(fallback(new TextEncoder().encode('123456789'), 0, 9)).toBe(0xcbf43926)
    expect(fallback(new Uint8Array(0), 0, 0)).toBe(0)
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 5000 }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (bytes, a, b, cut) => {
          const start = bytes.length === 0 ? 0 : a % bytes.length
          const end = start + (bytes.length === start ? 0 : b % (bytes.length - start + 1))
          expect(fallback(bytes, start, end)).toBe(zlibCrc32(bytes.subarray(start, end)))
          const mid = start + (cut % (end - start + 1))
          expect(fallback(bytes, mid, end, fallback(bytes, start, mid))).toBe(
            zlibCrc32(bytes.subarray(start, end)),
          )
        },
      ),
      { numRuns: 300 },
    )
    // Large inputs, which zlib.crc32 would have taken where it exists.
    for (const size of [511, 512, 513, 4096, 65_537, 1 << 20]) {
      const bytes = new Uint8Array(size)
      for (let i = 0; i < size; i++) bytes[i] = (i * 2654435761) >>> 24
      expect(fallback(bytes, 0, size)).toBe(zlibCrc32(bytes))
      expect(fallback(bytes, 3, size - 5)).toBe(zlibCrc32(bytes.subarray(3, size - 5)))
      expect(fallback(bytes, 100, size, zlibCrc32(bytes.subarray(0, 100)))).toBe(zlibCrc32(bytes))
    }
  })
})
