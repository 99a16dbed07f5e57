/**
 * Staleness of a following reader: for each durable put, the time from its acknowledgement in
 * the writer to the moment a reader first showed it. The writer records (mark, ack time) per
 * put, where the mark is the LSN the writer showed right after the put resolved (AlexStorage:
 * `db.lsn`) or a sequence number written with it (LMDB); each reader records (mark, time) every
 * time its visible mark grows (AlexStorage: `reader.lsn`). A put is visible in a reader from the
 * first stamp whose mark is at least the put's. All times are milliseconds from one origin of
 * `process.hrtime.bigint()`, the same clock in every process (see clock.ts). Pure, no I/O.
 */

/** Visibility delays of one reader. */
export interface Delays {
  /** Milliseconds from acknowledgement to visibility, one per put considered (0 if seen before the ack). */
  readonly delays: number[]
  /** Puts considered that the reader had not shown by `endMs`; their delay is `endMs - ack` (a lower bound). */
  readonly unseen: number
}

/**
 * Delays of the puts acknowledged in [startMs, endMs - tailMs] as seen by one reader.
 * `acks` and `stamps` are flat pairs [mark, ms, mark, ms, ...], each in increasing mark order.
 */
export function visibilityDelays(
  acks: ArrayLike<number>,
  stamps: ArrayLike<number>,
  startMs: number,
  endMs: number,
  tailMs: number,
): Delays {
  const delays: number[] = []
  let unseen = 0
  let s = 0
  const last = endMs - tailMs
  for (let a = 0; a + 1 < acks.length; a += 2) {
    const mark = acks[a]!
    const ack = acks[a + 1]!
    if (ack < startMs || ack > last) continue
    while (s + 1 < stamps.length && stamps[s]! < mark) s += 2
    if (s + 1 >= stamps.length) {
      unseen++
      delays.push(endMs - ack)
      continue
    }
    delays.push(Math.max(0, stamps[s + 1]! - ack))
  }
  return { delays, unseen }
}
