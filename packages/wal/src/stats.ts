import type { LatencySummary } from './types.js'

/**
 * A log-linear latency histogram in a fixed typed array: values below 16 get a bucket each,
 * larger ones 8 buckets per power of two (so a bucket is at most 12.5% wide and a reported
 * percentile, the bucket midpoint, is within about 7%). Recording allocates nothing.
 */
export class LatencyHistogram {
  private readonly counts = new Float64Array(16 + 8 * 48)
  private total = 0
  private sum = 0
  private maxValue = 0

  /** Records one sample (microseconds, clamped to >= 0). */
  record(value: number): void {
    const v = Math.max(0, value)
    const i = bucketOf(Math.floor(v))
    this.counts[i] = (this.counts[i] as number) + 1
    this.total++
    this.sum += v
    if (value > this.maxValue) this.maxValue = value
  }

  /** Count, mean, p50/p90/p99 and max. */
  summary(): LatencySummary {
    return {
      count: this.total,
      mean: this.total === 0 ? 0 : this.sum / this.total,
      p50: this.percentile(0.5),
      p90: this.percentile(0.9),
      p99: this.percentile(0.99),
      max: this.maxValue,
    }
  }

  /** The value at quantile `q` (0..1), as the midpoint of its bucket (0 when empty). */
  percentile(q: number): number {
    if (this.total === 0) return 0
    if (q >= 1) return this.maxValue
    const rank = Math.max(1, Math.ceil(q * this.total))
    let seen = 0
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] as number
      if (seen >= rank) return Math.min(bucketMid(i), this.maxValue)
    }
    return this.maxValue
  }
}

function bucketOf(v: number): number {
  if (v < 16) return v
  const e = Math.min(51, Math.floor(Math.log2(v)))
  const sub = Math.floor(v / 2 ** (e - 3)) & 7
  return 16 + (e - 4) * 8 + sub
}

function bucketMid(i: number): number {
  if (i < 16) return i
  const e = Math.floor((i - 16) / 8) + 4
  const sub = (i - 16) % 8
  const width = 2 ** (e - 3)
  return 2 ** e + sub * width + width / 2
}

/** The mutable counters behind `WalStats` (one object per log, updated in place). */
export class WalCounters {
  bytesWritten = 0
  recordsWritten = 0
  batchesWritten = 0
  groupCommits = 0
  groupOpsMax = 0
  segmentsCreated = 0
  segmentsDeleted = 0
  fsyncs = 0
  dirSyncs = 0
  checkpoints = 0
  readonly fsyncLatency = new LatencyHistogram()
}
