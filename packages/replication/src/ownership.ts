import { fetchLog, listHistory } from './history.js'
import type { LocalState } from './local-state.js'
import { decodeObject, KIND_LINEAGE } from './object-format.js'
import type { ObjectNames } from './object-names.js'
import type { ObjectStore } from './object-store.js'

/** The last log object a writer may continue from. */
export interface Confirmed {
  seq: number
  lastLsn: number
  checksum: string
}

/** What a writer found when it checked a prefix against its local state. */
export type Ownership =
  /** Another store's history, or one that moved on without this store: never write there. */
  | { kind: 'fenced'; reason: string }
  /** No lineage marker, and no state or one of a lineage never started: start (again). */
  | { kind: 'empty' }
  /** This store's history: continue after `confirmed` (a resync first if `resyncUnfinished`). */
  | { kind: 'owned'; lineage: string; confirmed: Confirmed; resyncUnfinished: boolean }

/**
 * Proves (or disproves) that the prefix's history is the store's (docs/replication-format.md,
 * "Fencing"): the lineage marker must be the one the local state names, and the newest log
 * object exactly the one the state confirmed last, or the one it recorded as its intent (same
 * checksum: a PUT whose confirmation was lost); the bucket must not be ahead of the store
 * (`storeLsn`, the lineage LSN of the store's applied writes).
 */
export async function checkOwnership(
  store: ObjectStore,
  names: ObjectNames,
  state: LocalState | undefined,
  storeLsn: number,
): Promise<Ownership> {
  const fenced = (reason: string): Ownership => ({ kind: 'fenced', reason })
  const marker = await store.get(names.lineage)
  if (state === undefined) {
    return marker === undefined
      ? { kind: 'empty' }
      : fenced(
          `${names.lineage} exists and this store has no record of shipping there: another store's history (restore() from it to continue it, or use another prefix)`,
        )
  }
  if (marker === undefined) {
    // A lineage this store began whose marker never landed (it stopped first): begin it again.
    if (state.seq === 0) return { kind: 'empty' }
    return fenced(`the lineage marker ${names.lineage} is gone`)
  }
  const lineage = decodeObject(marker, names.lineage, KIND_LINEAGE).header.lineage
  if (lineage !== state.lineage)
    return fenced(`the prefix holds lineage ${lineage}, not ${state.lineage}`)
  const { logs } = await listHistory(store, names, state.seq > 1 ? state.seq - 1 : undefined)
  const tail = logs[logs.length - 1] ?? 0
  const intent = state.intent
  let confirmed: Confirmed = { seq: state.seq, lastLsn: state.lastLsn, checksum: state.checksum }
  if (intent !== undefined && tail === intent.seq) {
    const object = await fetchLog(store, names, lineage, tail)
    if (object?.checksum !== intent.checksum)
      return fenced(`log object ${tail} is another writer's`)
    confirmed = { seq: tail, lastLsn: object.lastLsn, checksum: object.checksum }
  } else if (tail !== state.seq) {
    return fenced(
      `the bucket's newest log object is ${tail}, this store's last is ${state.seq}: another writer continued the history`,
    )
  } else if (tail > 0) {
    const object = await fetchLog(store, names, lineage, tail)
    if (object?.checksum !== state.checksum || object.lastLsn !== state.lastLsn) {
      return fenced(`log object ${tail} is not the one this store ended at (LSN ${state.lastLsn})`)
    }
  }
  if (confirmed.lastLsn > storeLsn) {
    return fenced(`the bucket is at LSN ${confirmed.lastLsn}, ahead of this store (${storeLsn})`)
  }
  // A resync object must be followed by its snapshot: if the writer stopped between the two (or
  // nothing was shipped yet), the history restarts again from a fresh snapshot.
  let resyncUnfinished = confirmed.seq === 0
  if (!resyncUnfinished) {
    const object = await fetchLog(store, names, lineage, confirmed.seq)
    if (object?.resync === true) {
      const { snapshots } = await listHistory(store, names, confirmed.seq)
      resyncUnfinished = !snapshots.some((s) => s.seq === confirmed.seq)
    }
  }
  return { kind: 'owned', lineage, confirmed, resyncUnfinished }
}
