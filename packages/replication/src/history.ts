import type { AlexStorage, BatchOperation } from '@alex/storage'
import { ReplicationError, ReplicationErrorCode } from './errors.js'
import {
  type DecodedObject,
  decodeObject,
  FLAG_RESYNC,
  KIND_LINEAGE,
  KIND_LOG,
  KIND_SNAPSHOT,
  type LogOp,
  logOps,
  snapshotEntries,
} from './object-format.js'
import type { ObjectNames } from './object-names.js'
import type { ObjectStore } from './object-store.js'

/**
 * Reading a prefix's history back, verified: the lineage marker, the listing, log objects and
 * snapshots, each checked against the identity it must have (lineage, sequence number, LSNs, the
 * checksum chain). Shared by `restore` and `openReplica`.
 */

/** A snapshot named in a listing. */
export interface SnapshotRef {
  seq: number
  lsn: number
  key: string
}

/** What a listing of the prefix holds. */
export interface Listing {
  /** Log sequence numbers, ascending. */
  logs: number[]
  /** Snapshots, ascending by seq. */
  snapshots: SnapshotRef[]
}

/** A verified log object. */
export interface LogObject {
  seq: number
  baseLsn: number
  lastLsn: number
  checksum: string
  prevChecksum: string
  createdMs: number
  resync: boolean
  ops: LogOp[]
  bytes: number
}

function corrupt(message: string): ReplicationError {
  return new ReplicationError(ReplicationErrorCode.CORRUPT_OBJECT, message)
}

/** The lineage id of the prefix (from its marker); `ERR_REPLICATION_NOT_FOUND` without one. */
export async function readLineage(store: ObjectStore, names: ObjectNames): Promise<string> {
  const bytes = await store.get(names.lineage)
  if (bytes === undefined) {
    throw new ReplicationError(
      ReplicationErrorCode.NOT_FOUND,
      `no lineage marker ${names.lineage} in bucket ${store.bucket}: nothing was replicated there`,
    )
  }
  return decodeObject(bytes, names.lineage, KIND_LINEAGE).header.lineage
}

/** The log objects' sequence numbers under the prefix (after `afterSeq`, if given), ascending. */
export async function listLogs(
  store: ObjectStore,
  names: ObjectNames,
  afterSeq?: number,
): Promise<number[]> {
  const keys = await store.list(
    names.logDir,
    afterSeq === undefined ? undefined : names.log(afterSeq),
  )
  const logs: number[] = []
  for (const key of keys) {
    const seq = names.parseLog(key)
    if (seq !== undefined) logs.push(seq)
  }
  return logs.sort((a, b) => a - b)
}

/** The snapshots under the prefix, ascending by seq. */
export async function listSnapshots(
  store: ObjectStore,
  names: ObjectNames,
): Promise<SnapshotRef[]> {
  const snapshots: SnapshotRef[] = []
  for (const key of await store.list(names.snapDir)) {
    const ref = names.parseSnapshot(key)
    if (ref !== undefined) snapshots.push({ ...ref, key })
  }
  return snapshots.sort((a, b) => a.seq - b.seq)
}

/** The log objects (after `afterSeq` only, if given) and snapshots under the prefix. */
export async function listHistory(
  store: ObjectStore,
  names: ObjectNames,
  afterSeq?: number,
): Promise<Listing> {
  return {
    logs: await listLogs(store, names, afterSeq),
    snapshots: await listSnapshots(store, names),
  }
}

/** Fetches and verifies log object `seq` of `lineage`; undefined if it does not exist. */
export async function fetchLog(
  store: ObjectStore,
  names: ObjectNames,
  lineage: string,
  seq: number,
): Promise<LogObject | undefined> {
  const key = names.log(seq)
  const bytes = await store.get(key)
  if (bytes === undefined) return undefined
  const object = decodeObject(bytes, key, KIND_LOG)
  const h = object.header
  if (h.lineage !== lineage)
    throw corrupt(`object ${key}: lineage ${h.lineage}, the prefix's is ${lineage}`)
  if (h.seq !== seq) throw corrupt(`object ${key}: its header says seq ${h.seq}`)
  return {
    seq,
    baseLsn: h.baseLsn,
    lastLsn: h.lastLsn,
    checksum: object.checksum,
    prevChecksum: h.prevChecksum,
    createdMs: h.createdMs,
    resync: (h.flags & FLAG_RESYNC) !== 0,
    ops: logOps(object, key),
    bytes: bytes.length,
  }
}

/**
 * Checks that `next` continues `prev` without a gap: its predecessor checksum is `prev`'s and
 * its first LSN follows `prev`'s last. A resync object (the writer lost its log and shipped a
 * snapshot after it) cannot be crossed from before it: `ERR_REPLICATION_GAP`.
 */
export function checkFollows(prev: LogObject, next: LogObject, names: ObjectNames): void {
  if (next.prevChecksum !== prev.checksum) {
    throw corrupt(
      `object ${names.log(next.seq)} does not follow ${names.log(prev.seq)} (predecessor checksum differs)`,
    )
  }
  if (next.resync || next.baseLsn !== prev.lastLsn) {
    throw new ReplicationError(
      ReplicationErrorCode.GAP,
      `the history has a gap between LSN ${prev.lastLsn} and ${next.baseLsn + 1} at ${names.log(next.seq)}: restore from a snapshot after it`,
    )
  }
}

/** Fetches and verifies a snapshot: its identity, and that it follows log object `head`. */
export async function fetchSnapshot(
  store: ObjectStore,
  names: ObjectNames,
  lineage: string,
  ref: SnapshotRef,
  head: LogObject,
): Promise<{ keys: Float64Array; values: Uint8Array[]; bytes: number }> {
  const bytes = await store.get(ref.key)
  if (bytes === undefined) {
    throw new ReplicationError(
      ReplicationErrorCode.GAP,
      `snapshot ${ref.key} vanished (retention?)`,
    )
  }
  const object: DecodedObject = decodeObject(bytes, ref.key, KIND_SNAPSHOT)
  const h = object.header
  if (h.lineage !== lineage)
    throw corrupt(`object ${ref.key}: lineage ${h.lineage}, the prefix's is ${lineage}`)
  if (h.seq !== ref.seq || h.lastLsn !== ref.lsn) {
    throw corrupt(`object ${ref.key}: its header says seq ${h.seq}, LSN ${h.lastLsn}`)
  }
  if (h.prevChecksum !== head.checksum || h.lastLsn !== head.lastLsn) {
    throw corrupt(`snapshot ${ref.key} does not follow ${names.log(head.seq)}`)
  }
  return { ...snapshotEntries(object, ref.key), bytes: bytes.length }
}

/** The operations of `ops` (whole batches) as store batches, one per atomic write. */
export function toBatches(ops: readonly LogOp[]): BatchOperation[][] {
  const batches: BatchOperation[][] = []
  let batch: BatchOperation[] = []
  for (const op of ops) {
    batch.push(
      op.type === 'put'
        ? { type: 'put', key: op.key, value: op.value! }
        : { type: 'delete', key: op.key },
    )
    if (op.last) {
      batches.push(batch)
      batch = []
    }
  }
  if (batch.length > 0) batches.push(batch)
  return batches
}

/** Applies operations to a store, one batch per atomic write, many in flight. */
export async function applyOps(db: AlexStorage, ops: readonly LogOp[]): Promise<void> {
  let inFlight: Promise<void>[] = []
  for (const batch of toBatches(ops)) {
    inFlight.push(
      batch.length === 1 && batch[0]!.type === 'put'
        ? db.put(batch[0]!.key, batch[0]!.value)
        : db.batch(batch),
    )
    if (inFlight.length >= 1024) {
      await Promise.all(inFlight)
      inFlight = []
    }
  }
  await Promise.all(inFlight)
}
