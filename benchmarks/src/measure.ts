/**
 * Latency recording and summary statistics. Latencies are recorded in nanoseconds into an
 * HdrHistogram (3 significant digits), from `performance.now()` differences.
 */
import * as hdr from 'hdr-histogram-js'

/** Latency percentiles of one measured phase, in nanoseconds. */
export interface LatencySummary {
  readonly p50: number
  readonly p99: number
  readonly p999: number
  readonly max: number
  /** Operations whose latency was recorded (all, or every 8th for sub-microsecond loops). */
  readonly samples: number
}

/** An HdrHistogram of nanosecond latencies. */
export class LatencyRecorder {
  private readonly histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  })

  /** Records one latency given in milliseconds (a `performance.now()` difference). */
  recordMs(ms: number): void {
    const ns = Math.round(ms * 1e6)
    this.histogram.recordValue(Math.max(1, ns))
  }

  /** The percentiles recorded so far. */
  summary(): LatencySummary {
    const h = this.histogram
    return {
      p50: h.getValueAtPercentile(50),
      p99: h.getValueAtPercentile(99),
      p999: h.getValueAtPercentile(99.9),
      max: h.maxValue,
      samples: h.totalCount,
    }
  }
}

export { median, spread } from '@alex/test-support/bench'
