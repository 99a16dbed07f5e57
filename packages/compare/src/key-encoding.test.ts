import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeKey, encodeKey, writeKey } from './key-encoding.js'

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b)
}

const finite = fc.double({ noNaN: true, noDefaultInfinity: true })

describe('key encoding', () => {
  it('round-trips special values, with -0 read back as +0', () => {
    const keys = [
      0,
      -0,
      1,
      -1,
      Number.MIN_VALUE,
      -Number.MIN_VALUE,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
      1e-300,
      -1e-300,
      2 ** 53 + 2,
      0.1,
    ]
    for (const k of keys) {
      const back = decodeKey(encodeKey(k))
      expect(back).toBe(k === 0 ? 0 : k)
      expect(Object.is(back, -0)).toBe(false)
    }
  })

  it('encodes -0 and +0 identically', () => {
    expect(encodeKey(-0).equals(encodeKey(0))).toBe(true)
    expect(encodeKey(0).toString('hex')).toBe('8000000000000000')
  })

  it('orders negatives, tiny and huge magnitudes exactly as numbers', () => {
    const keys = [
      -Number.MAX_VALUE,
      -1e300,
      -1,
      -Number.MIN_VALUE,
      0,
      Number.MIN_VALUE,
      1e-300,
      1,
      1.0000000000000002,
      2 ** 53,
      1e300,
      Number.MAX_VALUE,
    ]
    for (let i = 1; i < keys.length; i++) {
      expect(compareBytes(encodeKey(keys[i - 1]!), encodeKey(keys[i]!))).toBe(-1)
    }
  })

  it('preserves order for any two finite doubles (property)', () => {
    fc.assert(
      fc.property(finite, finite, (a, b) => {
        const byBytes = Math.sign(compareBytes(encodeKey(a), encodeKey(b)))
        const byNumber = a < b ? -1 : a > b ? 1 : 0
        expect(byBytes).toBe(byNumber)
        expect(decodeKey(encodeKey(a))).toBe(a + 0)
      }),
      { numRuns: 2000 },
    )
  })

  it('writes at an offset without touching neighbouring bytes', () => {
    const out = new Uint8Array(12).fill(0xaa)
    writeKey(-2.5, out, 2)
    expect(out[0]).toBe(0xaa)
    expect(out[1]).toBe(0xaa)
    expect(out[10]).toBe(0xaa)
    expect(decodeKey(out, 2)).toBe(-2.5)
  })

  it('rejects non-finite keys and short input with typed errors', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => encodeKey(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_KEY' }))
    }
    expect(() => encodeKey('1' as unknown as number)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_KEY' }),
    )
    expect(() => decodeKey(new Uint8Array(7))).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_KEY' }),
    )
  })
})
