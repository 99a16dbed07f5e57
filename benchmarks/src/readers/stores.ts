/**
 * The two sides of the workload for each engine. AlexStorage: the writer is
 * `AlexStorage.open(dir)` with `sync: 'always'` (the bench's durable setting) and its mark is
 * `db.lsn`; a reader is `AlexStorage.open(dir, { readOnly: true })`, which follows the writer,
 * and its mark is `reader.lsn`. LMDB: both sides are the @alex/compare adapter (lmdb-js,
 * `getBinaryFast` reads, each commit fsynced); LMDB has no LSN to read, so the writer puts a
 * sequence number under SEQ_KEY in the same transaction as each value (lmdb-js commits the puts
 * of one event turn together), and the mark of a reader is the number it reads there.
 */
import { getEngine, type KvStore } from '@alex/compare'
import { AlexStorage } from '@alex/storage'
import type { ReadTarget } from './read-loop.js'

/** LMDB's sequence key: below every key of every distribution (all keys are >= 0). */
export const SEQ_KEY = -1

/** The writer's side. */
export interface WriterStore {
  /** A durable put of `value` under `key`; resolves once acknowledged. */
  put(key: number, value: Uint8Array): Promise<void>
  /** The mark of the last acknowledged put (read right after it resolved). */
  mark(): number
  get(key: number): Uint8Array | undefined
  /** AlexStorage: live readers listed by `stats().readers`, and the largest lag among them. */
  readers(): { count: number; maxLagMs: number } | undefined
  close(): Promise<void>
}

/** A reader's side. */
export interface ReaderStore extends ReadTarget {
  close(): Promise<void>
}

function seqValue(seq: number): Buffer {
  const b = Buffer.allocUnsafe(8)
  b.writeDoubleLE(seq, 0)
  return b
}

/** Opens the writer of `engine` on `dir`. */
export async function openWriter(engine: string, dir: string): Promise<WriterStore> {
  if (engine === 'alex') {
    const db = await AlexStorage.open(dir, { sync: 'always' })
    return {
      put: (key, value) => db.put(key, value),
      mark: () => db.lsn,
      get: (key) => db.get(key),
      readers: () => {
        const live = db.stats().readers.filter((r) => r.live)
        return { count: live.length, maxLagMs: Math.max(0, ...live.map((r) => r.lagMs)) }
      },
      close: () => db.close(),
    }
  }
  const store = await getEngine('lmdb').open(dir, { durable: true })
  let seq = 0
  return {
    put: async (key, value) => {
      const s = ++seq
      // Issued in the same turn: one lmdb-js transaction, one fsynced commit.
      await Promise.all([store.put(key, value), store.put(SEQ_KEY, seqValue(s))])
    },
    mark: () => seq,
    get: (key) => store.get(key) as Uint8Array | undefined,
    readers: () => undefined,
    close: () => store.close(),
  }
}

function lmdbReader(store: KvStore): ReaderStore {
  return {
    get: (key) => store.get(key) as Uint8Array | undefined,
    mark: () => {
      const v = store.get(SEQ_KEY) as Uint8Array | undefined
      if (v === undefined || v.length !== 8) return 0
      return new DataView(v.buffer, v.byteOffset, 8).getFloat64(0, true)
    },
    close: () => store.close(),
  }
}

/** Opens a reader of `engine` on `dir`, caught up with the writer. */
export async function openReader(engine: string, dir: string): Promise<ReaderStore> {
  if (engine === 'alex') {
    const db = await AlexStorage.open(dir, { readOnly: true })
    await db.catchUp()
    return { get: (key) => db.get(key), mark: () => db.lsn, close: () => db.close() }
  }
  return lmdbReader(await getEngine('lmdb').open(dir, { durable: true }))
}
