import { LOCATION_LONG, RECORD_HEADER_SIZE, RECORD_KEY, RECORD_TYPE, TYPE_PUT } from './format.js'
import type { SegmentSet } from './segment-set.js'

/**
 * The value of `key` at `location`, checked like `get`: a view of the resident image when the
 * record there is a put of `key` and its length is in the location (no call, no copy), else
 * `SegmentSet.readValue` (cold segment, long value, or a failed identity check, reported as
 * `ERR_CORRUPTION`). The one copy of `get`'s fast path outside `get` itself (which keeps it
 * inline): iteration and snapshot reads use it.
 */
export function valueAt(segments: SegmentSet, key: number, location: number): Uint8Array {
  // Location = (slot * 2^27 + offset) * 2^11 + length (location.ts), decoded inline.
  const length = location & 2047
  const rest = (location - length) / 2048
  const offset = rest & 0x7ffffff
  const slot = (rest - offset) / 134217728
  const bytes = segments.bufs[slot]
  if (
    bytes !== undefined &&
    length !== LOCATION_LONG &&
    segments.views[slot]!.getFloat64(offset + RECORD_KEY, true) === key &&
    bytes[offset + RECORD_TYPE] === TYPE_PUT
  ) {
    segments.cacheHits++
    return new Uint8Array(bytes.buffer, offset + RECORD_HEADER_SIZE, length)
  }
  return segments.readValue(location, key)
}
