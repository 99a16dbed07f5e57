/**
 * Little-endian u64 fields as JavaScript numbers: every u64 in the log's and the store's formats
 * (LSNs, lengths, counts, sequence numbers) stays below 2^53 by construction. The one home of
 * this coding for both packages.
 */

const TWO_32 = 4294967296

/** Writes a non-negative safe integer as u64 little-endian. */
export function setU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value >>> 0, true)
  view.setUint32(offset + 4, Math.floor(value / TWO_32), true)
}

/**
 * Reads a u64 little-endian; returns -1 if it exceeds 2^53 - 1 (unrepresentable here, so only
 * damage or a foreign file can hold one: callers treat -1 as invalid).
 */
export function getU64(view: DataView, offset: number): number {
  const lo = view.getUint32(offset, true)
  const hi = view.getUint32(offset + 4, true)
  if (hi > 0x1fffff) return -1
  return hi * TWO_32 + lo
}
