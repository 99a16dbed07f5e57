/**
 * The replicator's lag in bytes and time, from samples of the store taken at every round:
 * (time, applied LSN, log bytes written so far). The lag in bytes is the log bytes written since
 * the sample at the shipped LSN (what the store's log must retain for the replicator: records,
 * framing included); the lag in time is the age of the first sample that saw an unshipped write.
 * Both are estimates at the granularity of one round (`intervalMs`).
 */
interface Sample {
  t: number
  lsn: number
  walBytes: number
}

const MAX_SAMPLES = 4096

export class LagTracker {
  private samples: Sample[] = []

  /** Records the store's state now. */
  sample(lsn: number, walBytes: number, now = Date.now()): void {
    const last = this.samples[this.samples.length - 1]
    if (last !== undefined && last.lsn === lsn && last.walBytes === walBytes) return
    this.samples.push({ t: now, lsn, walBytes })
    if (this.samples.length > MAX_SAMPLES) this.samples.splice(1, this.samples.length - MAX_SAMPLES)
  }

  /** Drops the samples no longer needed once `shippedLsn` is shipped (keeps the one at it). */
  shipped(shippedLsn: number): void {
    let i = 0
    while (i + 1 < this.samples.length && this.samples[i + 1]!.lsn <= shippedLsn) i++
    if (i > 0) this.samples.splice(0, i)
  }

  /** Log bytes written after `shippedLsn`, up to `walBytesNow` (0 when nothing is unshipped). */
  lagBytes(shippedLsn: number, lsnNow: number, walBytesNow: number): number {
    if (shippedLsn >= lsnNow || this.samples.length === 0) return 0
    let at = this.samples[0]!
    for (const s of this.samples) {
      if (s.lsn <= shippedLsn) at = s
      else break
    }
    return Math.max(0, walBytesNow - at.walBytes)
  }

  /** Milliseconds since the first sample that held a write after `shippedLsn`. */
  lagMs(shippedLsn: number, lsnNow: number, now = Date.now()): number {
    if (shippedLsn >= lsnNow) return 0
    const first = this.samples.find((s) => s.lsn > shippedLsn)
    return first === undefined ? 0 : Math.max(0, now - first.t)
  }
}
