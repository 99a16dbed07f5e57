/**
 * Nanosecond latencies recorded in one process and merged in another: an HdrHistogram with the
 * settings of measure.ts's LatencyRecorder (3 significant digits), plus encoding to a compressed
 * base64 string for IPC and merging, which the readers' figures need (one histogram per reader,
 * one merged figure per phase).
 */
import * as hdr from 'hdr-histogram-js'
import type { LatencySummary } from '../measure.js'

function build(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  })
}

/** A mergeable latency histogram. */
export class Latencies {
  private readonly h: hdr.Histogram

  constructor(h: hdr.Histogram = build()) {
    this.h = h
  }

  /** Records one latency given in milliseconds (negative ones count as the smallest). */
  recordMs(ms: number): void {
    this.h.recordValue(Math.max(1, Math.round(ms * 1e6)))
  }

  /** Adds every value of `other`. */
  add(other: Latencies): void {
    this.h.add(other.h)
  }

  /** The histogram as a string, for IPC. */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.h)
  }

  /** A histogram from encode()'s string. */
  static decode(text: string): Latencies {
    const h = build()
    h.add(hdr.decodeFromCompressedBase64(text))
    return new Latencies(h)
  }

  /** Percentiles in ns (all 0 when nothing was recorded). */
  summary(): LatencySummary {
    const h = this.h
    if (h.totalCount === 0) return { p50: 0, p99: 0, p999: 0, max: 0, samples: 0 }
    return {
      p50: h.getValueAtPercentile(50),
      p99: h.getValueAtPercentile(99),
      p999: h.getValueAtPercentile(99.9),
      max: h.maxValue,
      samples: h.totalCount,
    }
  }
}
