/**
 * The store's log retention floor (docs/architecture.md, "Change feed"): every reader of the log
 * that must not lose its place (a change feed, a following reader) holds the smallest LSN it
 * still needs, and the write-ahead log keeps every segment holding an operation at or above the
 * lowest of them when a checkpoint deletes what it covers (`Wal.setRetentionFloor`, installed
 * once per log with `floor`). Holds are callbacks, read only when the log deletes segments, so a
 * reader that moves on pays nothing per change.
 */
export class LogRetention {
  private readonly holds = new Set<() => number>()

  /**
   * Holds the log from `needed()` on (the smallest LSN the holder still needs; it may grow as the
   * holder advances) until the returned function is called. Releasing twice is a no-op.
   */
  hold(needed: () => number): () => void {
    // A fresh function per hold, so that the same callback held twice is two holds.
    const entry = () => needed()
    this.holds.add(entry)
    return () => {
      this.holds.delete(entry)
    }
  }

  /**
   * The lowest LSN any holder needs: the log's retention floor. `+Infinity` with no holder (the
   * floor keeps nothing); `-Infinity` (keep everything) if a holder answers something that is not
   * a number. Called by the log at every deletion: one call per holder.
   */
  floor(): number {
    let floor = Number.POSITIVE_INFINITY
    for (const needed of this.holds) {
      const lsn = needed()
      if (typeof lsn !== 'number' || Number.isNaN(lsn)) return Number.NEGATIVE_INFINITY
      if (lsn < floor) floor = lsn
    }
    return floor
  }

  /** How many holds are in place (stats and tests). */
  get size(): number {
    return this.holds.size
  }
}
