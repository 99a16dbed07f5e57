/** Number and label formatting shared by the table, the report and the charts. */
import type { Durability } from './workloads.js'

/** A duration in nanoseconds with a fitting unit: 829 ns, 12.3 µs, 1.23 ms, 2.1 s. */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '—'
  if (ns < 1e3) return `${ns.toFixed(0)} ns`
  if (ns < 1e6) return `${(ns / 1e3).toPrecision(3)} µs`
  if (ns < 1e9) return `${(ns / 1e6).toPrecision(3)} ms`
  return `${(ns / 1e9).toPrecision(3)} s`
}

/** A rate per second: 1.21 M/s, 45.6 k/s, 812 /s. */
export function formatRate(perSec: number): string {
  if (!Number.isFinite(perSec)) return '—'
  if (perSec >= 1e6) return `${(perSec / 1e6).toPrecision(3)} M/s`
  if (perSec >= 1e3) return `${(perSec / 1e3).toPrecision(3)} k/s`
  return `${perSec.toFixed(0)} /s`
}

/** A ratio of times: "4.80×" (the baseline is faster) or "0.52×" (the baseline is slower). */
export function formatRatio(r: number | null): string {
  if (r === null || !Number.isFinite(r)) return '—'
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`
}

/** A figure's spread, or "n/a" with fewer than two repetitions (one run has no spread). */
export function formatSpreadOf(a: {
  readonly spread: number
  readonly reps: readonly unknown[]
}): string {
  return a.reps.length < 2 ? 'n/a' : formatSpread(a.spread)
}

/** A relative spread as ±percent of the median. */
export function formatSpread(s: number): string {
  return `±${((s / 2) * 100).toFixed(1)}%`
}

/** A count with thousands separators. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

/** The durability of a figure, in words. */
export function durabilityLabel(d: Durability): string {
  switch (d) {
    case 'durable':
      return 'durable: every acknowledged write fsynced'
    case 'fast':
      return 'not synced: each engine’s fastest non-syncing mode'
    case 'end':
      return 'batches not synced, one sync at the end (counted)'
    default:
      return 'read only'
  }
}
