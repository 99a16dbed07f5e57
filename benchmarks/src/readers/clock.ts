/**
 * One clock for the writer and every reader: `process.hrtime.bigint()`, which on Linux is
 * CLOCK_MONOTONIC, a single system-wide clock shared by every process and thread of the machine
 * (unlike `performance.now()`, whose origin is each process's or thread's start, and
 * `Date.now()`, whose millisecond resolution is too coarse for sub-millisecond staleness). The
 * writer picks an origin and hands it to the readers as a string (a bigint does not cross IPC
 * as JSON); every time is then milliseconds since that origin, a float precise to nanoseconds.
 */

/** A fresh origin, to hand to readers. */
export function newOrigin(): string {
  return process.hrtime.bigint().toString()
}

/** Milliseconds since `origin` (a BigInt made from newOrigin's string). */
export function sinceOrigin(origin: bigint): number {
  return Number(process.hrtime.bigint() - origin) / 1e6
}

/** A clock reading milliseconds since `origin`. */
export function clockFrom(origin: string): () => number {
  const o = BigInt(origin)
  return () => sinceOrigin(o)
}
