/**
 * Occupancy bitmap helpers: bit `i` of word `i >>> 5` is set when slot `i` of a data node holds
 * a real key (clear for a gap). Bits at or past the capacity are always clear.
 */

/** Index of the lowest set bit of a non-zero 32-bit word. */
export function lowestBit(word: number): number {
  return 31 - Math.clz32(word & -word)
}

/** Number of set bits of a 32-bit word. */
export function popcount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555)
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333)
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24
}

/** Whether slot `i` is occupied. */
export function isSet(bm: Uint32Array, i: number): boolean {
  return (bm[i >>> 5]! & (1 << (i & 31))) !== 0
}

/** First occupied slot >= from, or `cap` if none. */
export function nextSet(bm: Uint32Array, from: number, cap: number): number {
  if (from >= cap) return cap
  let w = from >>> 5
  let word = bm[w]! & (-1 << (from & 31))
  while (word === 0) {
    w++
    if (w >= bm.length) return cap
    word = bm[w]!
  }
  const pos = (w << 5) + lowestBit(word)
  return Math.min(pos, cap)
}

/** Last occupied slot <= from, or -1 if none. */
export function prevSet(bm: Uint32Array, from: number): number {
  if (from < 0) return -1
  let w = from >>> 5
  let word = bm[w]! & (0xffffffff >>> (31 - (from & 31)))
  while (word === 0) {
    w--
    if (w < 0) return -1
    word = bm[w]!
  }
  return (w << 5) + 31 - Math.clz32(word)
}

/** First gap (clear bit) >= from, or `cap` if none. */
export function nextClear(bm: Uint32Array, from: number, cap: number): number {
  if (from >= cap) return cap
  let w = from >>> 5
  let word = ~bm[w]! & (-1 << (from & 31))
  while (word === 0) {
    w++
    if (w >= bm.length) return cap
    word = ~bm[w]!
  }
  const pos = (w << 5) + lowestBit(word)
  return Math.min(pos, cap)
}

/** Last gap (clear bit) in [min, from], or -1 if none. */
export function prevClear(bm: Uint32Array, from: number, min: number): number {
  if (from < min || from < 0) return -1
  let w = from >>> 5
  let word = ~bm[w]! & (0xffffffff >>> (31 - (from & 31)))
  while (word === 0) {
    w--
    if (w < 0 || (w << 5) + 31 < min) return -1
    word = ~bm[w]!
  }
  const pos = (w << 5) + 31 - Math.clz32(word)
  return pos >= min ? pos : -1
}
