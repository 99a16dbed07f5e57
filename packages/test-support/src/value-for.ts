/**
 * Deterministic bytes for (key, version) of `length` bytes: a value a checker can re-derive from
 * the key and version alone, so a test can tell a torn, stale or foreign value from the right one.
 */
export function valueFor(key: number, version: number, length: number): Uint8Array {
  const v = new Uint8Array(length)
  let x = (Math.imul(key | 0, 0x9e3779b1) ^ Math.imul(version | 0, 0x85ebca6b) ^ length) >>> 0
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    v[i] = x & 0xff
  }
  return v
}
