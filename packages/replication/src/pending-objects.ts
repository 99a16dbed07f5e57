import type { Snapshot } from '@alex/storage'
import { encodeLog, encodeSnapshot, type LogOp } from './object-format.js'
import type { ObjectNames } from './object-names.js'
import type { ObjectStore } from './object-store.js'

/** An object built and not yet confirmed in the bucket: retried with exactly these bytes. */
export interface Pending {
  kind: 'log' | 'snapshot'
  key: string
  bytes: Uint8Array
  checksum: string
  /** The log object's number, or the number of the log object a snapshot follows. */
  seq: number
  lastLsn: number
}

/**
 * The objects a replicator has built and not yet created, in the order they must be created: log
 * objects numbered and chained after the last confirmed one (and after each other), snapshots
 * after the log object they follow. Their bytes never change, so a retry after a lost response
 * can recognise its own object.
 */
export class PendingObjects {
  private items: Pending[] = []

  constructor(private readonly names: ObjectNames) {}

  get length(): number {
    return this.items.length
  }

  get first(): Pending | undefined {
    return this.items[0]
  }

  shift(): void {
    this.items.shift()
  }

  /** The newest pending log object, if any. */
  private lastLog(): Pending | undefined {
    for (let i = this.items.length - 1; i >= 0; i--)
      if (this.items[i]!.kind === 'log') return this.items[i]
    return undefined
  }

  /** Queues a log object of `ops` after `baseLsn`, following the confirmed `seq`/`checksum`. */
  addLog(
    lineage: string,
    confirmed: { seq: number; checksum: string },
    ops: LogOp[],
    flags: number,
    baseLsn: number,
  ): void {
    const prev = this.lastLog()
    const seq = (prev?.seq ?? confirmed.seq) + 1
    const encoded = encodeLog({
      lineage,
      seq,
      baseLsn,
      prevChecksum: prev?.checksum ?? confirmed.checksum,
      createdMs: Date.now(),
      flags,
      ops,
    })
    this.items.push({
      kind: 'log',
      key: this.names.log(seq),
      ...encoded,
      seq,
      lastLsn: baseLsn + ops.length,
    })
  }

  /**
   * Queues a snapshot of `snap` (lineage LSN `snap.lsn + offset`), following the newest log
   * object (pending or confirmed), whose last LSN must be that LSN.
   */
  addSnapshot(
    lineage: string,
    confirmed: { seq: number; checksum: string },
    snap: Snapshot,
    offset: number,
  ): void {
    const keys: number[] = []
    const values: Uint8Array[] = []
    for (const [k, v] of snap.entries()) {
      keys.push(k)
      values.push(v)
    }
    const prev = this.lastLog()
    const seq = prev?.seq ?? confirmed.seq
    const lsn = snap.lsn + offset
    const encoded = encodeSnapshot({
      lineage,
      seq,
      lsn,
      prevChecksum: prev?.checksum ?? confirmed.checksum,
      createdMs: Date.now(),
      keys,
      values,
    })
    this.items.push({
      kind: 'snapshot',
      key: this.names.snapshot(seq, lsn),
      ...encoded,
      seq,
      lastLsn: lsn,
    })
  }
}

/**
 * Creates `p` only if its key is absent. True if it is in the bucket now as sent (created, or
 * found byte for byte: an earlier attempt whose response was lost); false if another writer's
 * object holds the key.
 */
export async function createOnce(store: ObjectStore, p: Pending): Promise<boolean> {
  if ((await store.putIfAbsent(p.key, p.bytes)) === 'created') return true
  const there = await store.get(p.key)
  return there !== undefined && Buffer.from(there).equals(p.bytes)
}

/**
 * Retention: deletes the snapshots beyond the newest `keep` and the log objects before the
 * oldest kept snapshot's (which it follows and must stay). `keep` 0 keeps everything.
 */
export async function pruneHistory(
  store: ObjectStore,
  names: ObjectNames,
  history: { logs: number[]; snapshots: { seq: number; key: string }[] },
  keep: number,
): Promise<void> {
  const { logs, snapshots } = history
  if (keep === 0 || snapshots.length <= keep) return
  const oldest = snapshots[snapshots.length - keep]!
  const doomed = snapshots.slice(0, snapshots.length - keep).map((s) => s.key)
  for (const seq of logs) if (seq < oldest.seq) doomed.push(names.log(seq))
  await store.deleteMany(doomed)
}
