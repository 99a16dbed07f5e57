import { randomBytes } from 'node:crypto'
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmdirSync,
  rmSync,
} from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { AlexStorage } from '@alex/storage'
import { ReplicationError, ReplicationErrorCode, wrap } from './errors.js'
import {
  applyOps,
  checkFollows,
  fetchLog,
  fetchSnapshot,
  type LogObject,
  listHistory,
  readLineage,
} from './history.js'
import { writeState } from './local-state.js'
import { normalisePrefix, ObjectNames } from './object-names.js'
import { DEFAULT_REQUEST_TIMEOUT_MS, ObjectStore, type S3ClientLike } from './object-store.js'

/** Where the objects are (shared by `replicate`, `restore` and `openReplica`). */
export interface BucketOptions {
  /** The bucket's name. */
  bucket: string
  /** Key prefix of this store's objects ('' for the bucket's root; a trailing '/' is implied). */
  prefix: string
  /** An `S3Client` from `@aws-sdk/client-s3` (or anything with its `send`). */
  client: S3ClientLike
  /** Bound on one request to the object store (default 30 s): a hung call is aborted. */
  requestTimeoutMs?: number
}

/** Options of `restore`. */
export interface RestoreOptions extends BucketOptions {
  /**
   * Restore the state at this LSN (default: the newest shipped). It must end an atomic write
   * (a batch's last operation) and lie at or after the oldest retained snapshot.
   */
  toLsn?: number
}

/** What `restore` did. */
export interface RestoreResult {
  /** The lineage LSN the restored store holds exactly (its writes up to here). */
  lsn: number
  /** The lineage id. */
  lineage: string
  /** The snapshot it started from (its LSN) and the log objects applied after it. */
  snapshotLsn: number
  logObjects: number
  /** The log object sequence number the restore ended in. */
  seq: number
  /** Bytes downloaded. */
  bytes: number
}

/** Checks the bucket options common to the three entry points. */
export function checkBucketOptions(o: BucketOptions): void {
  if (typeof o !== 'object' || o === null) invalid('options must be an object')
  if (typeof o.bucket !== 'string' || o.bucket === '') invalid('bucket must be a non-empty string')
  if (typeof o.prefix !== 'string') invalid("prefix must be a string ('' for the bucket's root)")
  if (typeof o.client !== 'object' || o.client === null || typeof o.client.send !== 'function') {
    invalid('client must be an S3Client (an object with send())')
  }
  if (o.requestTimeoutMs !== undefined && !(o.requestTimeoutMs > 0)) {
    invalid('requestTimeoutMs must be a positive number')
  }
}

export function invalid(message: string): never {
  throw new ReplicationError(ReplicationErrorCode.INVALID_ARGUMENT, message)
}

/**
 * Builds, in `dir`, the store as it was at `toLsn` (default: the newest shipped LSN) from the
 * objects under `bucket`/`prefix`: the newest snapshot at or before the target, then every log
 * object after it up to the target, each verified (checksum, lineage, sequence, the checksum
 * chain, LSN continuity). A gap is refused (`ERR_REPLICATION_GAP`), a damaged object too
 * (`ERR_REPLICATION_CORRUPT_OBJECT`). The store is built in a temporary directory beside `dir`
 * and renamed to `dir` only once complete and closed: a refused or failed restore leaves `dir`
 * as it was (absent or empty). `dir` must not exist or be empty. The result opens as a normal
 * writer, and remembers its place in the lineage, so `replicate()` on it continues the prefix
 * if (and only if) nothing was shipped after the restored LSN.
 */
export async function restore(options: RestoreOptions, dir: string): Promise<RestoreResult> {
  checkBucketOptions(options)
  const { toLsn } = options
  if (toLsn !== undefined && !(Number.isSafeInteger(toLsn) && toLsn >= 0)) {
    invalid(`toLsn must be an integer LSN >= 0 (got ${String(toLsn)})`)
  }
  if (typeof dir !== 'string' || dir === '') invalid('dir must be a path')
  const target = resolve(dir)
  checkEmptyOrAbsent(target)
  const temp = join(
    dirname(target),
    `.${basename(target)}.restore-${randomBytes(6).toString('hex')}`,
  )
  try {
    const result = await build(options, temp)
    finish(temp, target)
    return result
  } catch (err) {
    rmSync(temp, { recursive: true, force: true })
    throw wrap(err, ReplicationErrorCode.LOCAL, `restore into ${target} failed`)
  }
}

function checkEmptyOrAbsent(dir: string): void {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return
    throw new ReplicationError(
      ReplicationErrorCode.INVALID_ARGUMENT,
      `cannot use ${dir} as the restore's destination`,
      { cause: err },
    )
  }
  if (names.length > 0) invalid(`${dir} is not empty: restore into a new or empty directory`)
}

/** Moves the finished temp store to `target` (an empty `target` is replaced) and syncs the parent. */
function finish(temp: string, target: string): void {
  try {
    rmdirSync(target)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  renameSync(temp, target)
  const fd = openSync(dirname(target), 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Downloads, verifies and applies; the store ends closed in `temp`. */
async function build(options: RestoreOptions, temp: string): Promise<RestoreResult> {
  const names = new ObjectNames(normalisePrefix(options.prefix))
  const store = new ObjectStore(
    options.client,
    options.bucket,
    options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  )
  const lineage = await readLineage(store, names)
  const { logs, snapshots } = await listHistory(store, names)
  if (logs.length === 0 || snapshots.length === 0) {
    throw new ReplicationError(
      ReplicationErrorCode.NOT_FOUND,
      `no snapshot or log object under ${names.prefix || 'the bucket root'} in ${options.bucket}`,
    )
  }
  const want = options.toLsn ?? Number.POSITIVE_INFINITY
  const base = [...snapshots].reverse().find((s) => s.lsn <= want)
  if (base === undefined) {
    throw new ReplicationError(
      ReplicationErrorCode.GAP,
      `no snapshot at or before LSN ${want} is retained (the oldest is at LSN ${snapshots[0]!.lsn})`,
    )
  }
  const present = new Set(logs)
  const tail = logs[logs.length - 1]!
  let prev = await fetchLog(store, names, lineage, base.seq)
  if (prev === undefined) {
    throw new ReplicationError(
      ReplicationErrorCode.GAP,
      `log object ${names.log(base.seq)}, which snapshot ${base.key} follows, is missing`,
    )
  }
  const snap = await fetchSnapshot(store, names, lineage, base, prev)
  let bytes = prev.bytes + snap.bytes
  mkdirSync(temp, { recursive: false })
  const db = await AlexStorage.open(temp, { sync: 'none' })
  let lsn = base.lsn
  let logObjects = 0
  try {
    if (snap.keys.length > 0) await db.ingest({ keys: snap.keys, values: snap.values })
    const localAtBase = db.lsn
    for (let seq = base.seq + 1; lsn < want && seq <= tail; seq++) {
      const next: LogObject | undefined = present.has(seq)
        ? await fetchLog(store, names, lineage, seq)
        : undefined
      if (next === undefined) {
        throw new ReplicationError(
          ReplicationErrorCode.GAP,
          `log object ${names.log(seq)} is missing: the history after LSN ${lsn} is incomplete`,
        )
      }
      checkFollows(prev, next, names)
      bytes += next.bytes
      const ops = next.lastLsn <= want ? next.ops : next.ops.filter((op) => op.lsn <= want)
      if (next.lastLsn > want && ops.length > 0 && !ops[ops.length - 1]!.last) {
        invalid(
          `LSN ${want} is inside a batch (LSNs ${next.baseLsn + 1}..${next.lastLsn} of ${names.log(seq)}): pick the LSN that ends it`,
        )
      }
      await applyOps(db, ops)
      lsn = ops.length > 0 ? ops[ops.length - 1]!.lsn : lsn
      prev = next
      logObjects++
    }
    if (Number.isFinite(want) && lsn < want) {
      invalid(`LSN ${want} is beyond the newest shipped LSN ${lsn}`)
    }
    await db.sync()
    const lsnOffset = lsn - db.lsn
    if (db.lsn - localAtBase !== lsn - base.lsn) {
      throw new ReplicationError(
        ReplicationErrorCode.LOCAL,
        'the restored store numbered operations unexpectedly',
      )
    }
    await db.close()
    await writeState(temp, {
      version: 1,
      bucket: options.bucket,
      prefix: names.prefix,
      lineage,
      lsnOffset,
      seq: prev.seq,
      lastLsn: lsn,
      checksum: prev.checksum,
      lastShippedAt: prev.createdMs,
    })
    return { lsn, lineage, snapshotLsn: base.lsn, logObjects, seq: prev.seq, bytes }
  } catch (err) {
    await db.close().catch(() => {})
    throw err
  }
}
