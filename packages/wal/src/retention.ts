import type { SegmentEntry } from './segment-files.js'
import type { RecoveryReport } from './types.js'

/**
 * Retention: which segments a checkpoint may delete. A checkpoint makes every segment whose
 * operations are all at or below its LSN deletable ("covered"); retention keeps some of them so
 * that readers behind the checkpoint (a `LogTail`: the store's live readers and change feed)
 * can still read them. Three rules, each keeping a covered segment on its own:
 *
 * - the floor (`Wal.setRetentionFloor`): a segment holding an operation with LSN >= floor();
 * - `retainBytes`: the newest covered segments, until their sizes add up to at least it;
 * - `retainMs`: a segment sealed less than that many milliseconds ago (the seal time is kept in
 *   memory on a monotonic clock; segments found at open count as sealed at that open).
 *
 * Deletion always takes a prefix of the log (oldest first, stopping at the first segment a rule
 * keeps), so the segments left are contiguous: no reader ever meets a hole, and recovery sees
 * what it always saw, covered segments followed by the rest.
 */

/** The retention options of `WalOptions`, checked. */
export interface RetentionRules {
  retainBytes: number
  retainMs: number
}

/** The rules of one open log, and the floor its owner set. */
export class Retention {
  /** `Wal.setRetentionFloor`'s callback: the smallest LSN a reader still needs. */
  floor: (() => number) | undefined = undefined

  constructor(
    readonly rules: RetentionRules,
    /** Milliseconds on a monotonic clock (the seal times in `SegmentEntry.sealedAt`). */
    readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * How many of the oldest `covered` entries of `segments` (sealed, and covered by the
   * checkpoint) may be deleted: the index of the oldest one a rule keeps, or `covered`.
   */
  deletableCount(segments: readonly SegmentEntry[], covered: number): number {
    const { retainBytes, retainMs } = this.rules
    if (covered === 0 || (this.floor === undefined && retainBytes === 0 && retainMs === 0)) {
      return covered
    }
    const floor = this.readFloor()
    const now = this.now()
    let firstKept = covered
    /** Bytes of the covered segments newer than the one looked at. */
    let newerBytes = 0
    for (let i = covered - 1; i >= 0; i--) {
      const s = segments[i] as SegmentEntry
      const holdsNeeded = s.endLsn > s.baseLsn && s.endLsn - 1 >= floor
      if (holdsNeeded || newerBytes < retainBytes || now - s.sealedAt < retainMs) firstKept = i
      newerBytes += s.bytes
    }
    return firstKept
  }

  /**
   * The floor now: +Infinity without one (keeps nothing). A floor that throws or answers
   * something other than a number keeps everything (-Infinity): deleting what a reader may still
   * need is the one mistake retention must not make, and the checkpoint that asks must not fail.
   */
  private readFloor(): number {
    const floor = this.floor
    if (floor === undefined) return Number.POSITIVE_INFINITY
    try {
      const value = floor()
      return typeof value === 'number' && !Number.isNaN(value) ? value : Number.NEGATIVE_INFINITY
    } catch {
      return Number.NEGATIVE_INFINITY
    }
  }
}

/** How many of the oldest entries hold only operations at or below `lsn` (never the last). */
export function coveredCount(
  segments: readonly SegmentEntry[],
  lsn: number,
  sealed: number,
): number {
  let n = 0
  while (n < sealed && (segments[n] as SegmentEntry).endLsn - 1 <= lsn) n++
  return n
}

/**
 * What `Wal.open` deletes of the segments it adopts (`entries`, oldest first, all with the same
 * `sealedAt`: the open): the covered prefix minus what `retainBytes`/`retainMs` keep (no floor exists
 * yet at open; with `retainMs` > 0 every covered segment is kept, being "sealed" just now), and
 * the recovery report with `removedFiles` reduced to match. `Wal.inspect` reports the same.
 */
export function retainedAtOpen(
  report: RecoveryReport,
  entries: readonly SegmentEntry[],
  checkpointLsn: number,
  rules: RetentionRules,
): { deletable: number; report: RecoveryReport } {
  const covered = coveredCount(entries, checkpointLsn, entries.length)
  // Judged at the instant the entries were sealed, so that open and inspect agree exactly.
  const sealedAt = entries[0]?.sealedAt ?? 0
  let deletable = new Retention(rules, () => sealedAt).deletableCount(entries, covered)
  // A leftover segment with a damaged header (baseLsn 0) cannot be read: never kept, nor
  // anything before it (deletion takes a prefix).
  for (let i = covered - 1; i >= deletable; i--) {
    if ((entries[i] as SegmentEntry).baseLsn === 0) {
      deletable = i + 1
      break
    }
  }
  if (deletable === covered) return { deletable, report }
  const kept = new Set(entries.slice(deletable, covered).map((e) => e.path))
  const removedFiles = report.removedFiles.filter((path) => !kept.has(path))
  return { deletable, report: { ...report, removedFiles } }
}
