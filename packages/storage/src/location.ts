import { LOCATION_SLOT_FACTOR } from './format.js'

/**
 * Record locations: the payload the index stores for each key. One integer below 2^52 names a
 * segment slot and a byte offset (docs/storage-format.md, section 2), so the index holds plain
 * numbers and a lookup needs no object.
 */

/** Packs a slot and an offset into a location. */
export function packLocation(slot: number, offset: number): number {
  return slot * LOCATION_SLOT_FACTOR + offset
}

/** The byte offset part of a location (`>>> 0` is ToUint32, exact for integers below 2^53). */
export function offsetOf(location: number): number {
  return location >>> 0
}

/** The slot part of a location. */
export function slotOf(location: number): number {
  return (location - (location >>> 0)) / LOCATION_SLOT_FACTOR
}
