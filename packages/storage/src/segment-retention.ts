import type { DataSegment } from './data-segment.js'
import type { SegmentSet } from './segment-set.js'
import type { VersionHistory } from './version-history.js'

/**
 * Keeps segments a compaction retired while an open snapshot may still read from them
 * (docs/architecture.md, "Snapshots, retention and compaction"). A compaction copies only the
 * records keys point to; a snapshot older than the compaction may need an overwritten or deleted
 * key's old record, which only the retired input holds (the history names its location). So the
 * checkpoint that retires a segment at LSN L deletes it at once only if no open snapshot has an
 * LSN below L; otherwise the segment is `retain`ed (slot, file and image kept; out of the set's
 * listing and byte counts) and deleted when the oldest open snapshot reaches L, or when every
 * snapshot is released (at the latest at close).
 *
 * Crash safety is unchanged: a retained segment is unnamed by the newest snapshot file and sits
 * below the retirement marker, exactly like an input whose deletion a crash interrupted, which
 * the next open deletes.
 */
export class SegmentRetention {
  private readonly segments: SegmentSet
  private readonly history: VersionHistory
  /** Retained segments and the LSN each waits for. */
  private readonly waiting: { segment: DataSegment; lsn: number }[] = []
  /** Deferred deletions that failed (the file is left for the next open to delete). */
  failedDeletions = 0

  constructor(segments: SegmentSet, history: VersionHistory) {
    this.segments = segments
    this.history = history
    history.setReleaseListener((oldest) => this.release(oldest))
  }

  /**
   * Retires `segment`, which a snapshot file at `lsn` no longer names: deletes it now (returns
   * true: the caller fsyncs the directory) unless an open snapshot older than `lsn` may still read
   * it (returns false: deleted later, by `release`).
   */
  retire(segment: DataSegment, lsn: number): boolean {
    if (this.history.oldestLsn >= lsn) {
      this.segments.remove(segment)
      return true
    }
    this.segments.retain(segment)
    this.waiting.push({ segment, lsn })
    return false
  }

  /** Segments waiting for snapshots to be released. */
  get retained(): number {
    return this.waiting.length
  }

  /**
   * The oldest open snapshot is now at `oldest` (`Infinity`: none is open): deletes the segments
   * no open snapshot can read any more. Runs inside `release()` (or a garbage collection's
   * finalizer), so it never throws: a deletion that fails leaves a file unnamed by any snapshot,
   * which the next open deletes. No directory fsync: nothing depends on the deletion being
   * durable.
   */
  private release(oldest: number): void {
    const waiting = this.waiting
    for (let i = waiting.length - 1; i >= 0; i--) {
      const w = waiting[i]!
      if (w.lsn > oldest) continue
      waiting.splice(i, 1)
      try {
        this.segments.remove(w.segment)
      } catch {
        this.failedDeletions++
      }
    }
  }
}
