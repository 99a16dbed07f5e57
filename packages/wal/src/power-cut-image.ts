/**
 * What a power cut leaves of one file's unsynced bytes: the survival modes of
 * `FaultInjectionFileSystem.powerCut()`. Kept apart from the file system so that the media model
 * (docs/wal-format.md, "Durability argument", assumption 4) reads in one place.
 */

/** How the unsynced bytes of a file look after a power cut. */
export type PowerCutMode =
  /** Unsynced bytes are gone: the file is exactly its durable contents. */
  | 'drop'
  /** The file keeps its current length; bytes past the durable length read as zero. */
  | 'zero'
  /** The file keeps its current length; every unsynced byte is random. */
  | 'garble'
  /** A random-length prefix of the unsynced bytes made it to disk, the rest did not. */
  | 'prefix'
  /**
   * Out of order: each 512-byte sector (aligned to the file) written since the last sync made it
   * to disk or not, independently of the others, so a later sector can survive an earlier one.
   * Sectors that did not make it hold their durable bytes (zeros past the durable length); the
   * file keeps its current length.
   */
  | 'sectors'

/** Every mode, in the order `'random'` picks from and `forEachCrashPoint` documents. */
export const POWER_CUT_MODES: readonly PowerCutMode[] = [
  'drop',
  'zero',
  'garble',
  'prefix',
  'sectors',
]

/** The unit the disk persists atomically or not at all in `'sectors'` mode. */
export const SECTOR_BYTES = 512

/**
 * The bytes of a file that survive a power cut in `mode`, given its `durable` bytes and the
 * `current` bytes a sync issued now would persist. `rand` returns uniform numbers in [0, 1).
 */
export function survivingBytes(
  durable: Uint8Array,
  current: Uint8Array,
  mode: PowerCutMode,
  rand: () => number,
): Uint8Array {
  let first = 0
  const common = Math.min(durable.length, current.length)
  while (first < common && durable[first] === current[first]) first++
  if (first === current.length && current.length === durable.length) return durable.slice()
  if (current.length <= first) {
    // Only a truncation is unsynced: it either reached the disk or it did not.
    return mode === 'drop' ? durable.slice() : current
  }
  switch (mode) {
    case 'drop':
      return durable.slice()
    case 'zero':
      return durableAtLength(durable, current.length)
    case 'garble': {
      const out = current.slice()
      for (let i = first; i < out.length; i++) out[i] = Math.floor(rand() * 256)
      return out
    }
    case 'prefix': {
      const keep = first + Math.floor(rand() * (current.length - first + 1))
      const out = new Uint8Array(Math.max(keep, durable.length))
      out.set(durable)
      out.set(current.subarray(first, keep), first)
      return out
    }
    case 'sectors':
      return sectorSubset(durable, current, first, rand)
  }
}

/** The durable bytes, cut or zero-extended to `length`. */
function durableAtLength(durable: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length)
  out.set(durable.subarray(0, Math.min(durable.length, length)))
  return out
}

/**
 * A random subset of the sectors from the one holding byte `first` on carries the current
 * bytes; the others keep the durable ones. The survival probability is itself drawn per cut
 * (so some cuts keep nearly every sector, some nearly none).
 */
function sectorSubset(
  durable: Uint8Array,
  current: Uint8Array,
  first: number,
  rand: () => number,
): Uint8Array {
  const out = durableAtLength(durable, current.length)
  const p = rand()
  for (let s = first - (first % SECTOR_BYTES); s < current.length; s += SECTOR_BYTES) {
    if (rand() < p) out.set(current.subarray(s, Math.min(s + SECTOR_BYTES, current.length)), s)
  }
  return out
}
