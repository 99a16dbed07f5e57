import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3'
import { CliError, Exit } from './errors.js'
import { objectStoreError, type S3Settings } from './s3-client.js'

/**
 * What a prefix of a bucket holds, read the way docs/replication-format.md describes it: the
 * listing (log objects `log/<seq>`, snapshots `snap/<seq>-<lsn>`, the `lineage` marker) and the
 * 104-byte headers of the marker and of the newest log object (ranged GETs, so nothing else is
 * downloaded). `@alex/replication` has no call that reports this, and `openReplica` would build a
 * local copy; this reads without changing anything. Headers are checked (magic, version, kind)
 * but bodies are not verified: `restore` does that.
 */

/** A snapshot in the bucket. */
export interface SnapshotInfo {
  seq: number
  lsn: number
  bytes: number
  modified: string | undefined
}

/** `replica-status`'s view of the bucket. LSNs are the lineage's. */
export interface BucketStatus {
  bucket: string
  prefix: string
  /** 32 hex digits: the lineage id of the marker. */
  lineage: string
  /** Every write up to this LSN is in the bucket (the newest log object's last LSN). */
  newestLsn: number
  logObjects: number
  logBytes: number
  /** The sequence numbers of the oldest and newest log objects retained. */
  oldestSeq: number
  newestSeq: number
  snapshots: SnapshotInfo[]
  /** When the writer built the newest log object (its clock, ms since the epoch). */
  newestShippedAt: number
  /** Milliseconds since then (by this machine's clock; 0 if the clocks disagree). */
  ageMs: number
  /** The bucket's LastModified of the newest log object (ISO 8601). */
  newestModified: string | undefined
}

/** Where a local replica (or the writer's store) is, per its replication state file. */
export interface ReplicaInfo {
  dir: string
  /** Every write up to this LSN is applied there. */
  lsn: number
  seq: number
  /** LSNs the bucket holds beyond it, and the log objects holding them. */
  lagLsn: number
  lagObjects: number
  /**
   * How long ago the writer shipped the oldest log object not applied there (0 when it has
   * everything the bucket holds): how stale its view is, by this machine's clock.
   */
  stalenessMs: number
  /** When the writer shipped the last object applied there (a replica's state only). */
  appliedShippedAt: number | undefined
  /** Set if the store was fenced from the prefix (a writer's state only). */
  fenced: string | undefined
}

const HEADER_BYTES = 104
const MAGIC = 'ALXR'
const KIND_LINEAGE = 1
const KIND_LOG = 2

interface Header {
  kind: number
  lineage: string
  seq: number
  lastLsn: number
  createdMs: number
}

/** The prefix as the library names keys: no trailing '/', then one ('' stays ''). */
export function normalisePrefix(prefix: string): string {
  const p = prefix.replace(/\/+$/, '')
  return p === '' ? '' : `${p}/`
}

const pad = (n: number) => String(n).padStart(16, '0')

function bad(key: string, why: string): CliError {
  return new CliError(
    'ERR_REPLICATION_CORRUPT_OBJECT',
    `object ${key}: ${why}; an object in the bucket is damaged or not @alex/replication's`,
    Exit.DAMAGED,
  )
}

/** Parses the first 104 bytes of an object (docs/replication-format.md, "Every object"). */
function parseHeader(bytes: Uint8Array, key: string, kind: number): Header {
  if (bytes.length < HEADER_BYTES) throw bad(key, `${bytes.length} bytes, less than a header`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (Buffer.from(bytes.subarray(0, 4)).toString('latin1') !== MAGIC) throw bad(key, 'bad magic')
  if (bytes[5] !== 1) throw bad(key, `format version ${bytes[5]}, this tool reads version 1`)
  if (bytes[4] !== kind) throw bad(key, `kind ${bytes[4]}, expected ${kind}`)
  const u64 = (offset: number) => {
    const n = view.getBigUint64(offset, true)
    if (n > BigInt(Number.MAX_SAFE_INTEGER))
      throw bad(key, `a number at offset ${offset} is too big`)
    return Number(n)
  }
  return {
    kind: bytes[4]!,
    lineage: Buffer.from(bytes.subarray(8, 24)).toString('hex'),
    seq: u64(24),
    lastLsn: u64(40),
    createdMs: u64(56),
  }
}

/** The bucket's requests, bounded by the request timeout, failures as the tool's errors. */
class Reader {
  constructor(
    private readonly client: S3Client,
    private readonly settings: S3Settings,
  ) {}

  private signal(): AbortSignal {
    return AbortSignal.timeout(this.settings.requestTimeoutMs)
  }

  /** Every object under `prefix`: key, size, LastModified. */
  async list(prefix: string): Promise<{ key: string; size: number; modified?: Date }[]> {
    const out: { key: string; size: number; modified?: Date }[] = []
    let token: string | undefined
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.settings.bucket,
            Prefix: prefix,
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
          { abortSignal: this.signal() },
        )
        for (const c of page.Contents ?? []) {
          if (c.Key === undefined) continue
          out.push({
            key: c.Key,
            size: c.Size ?? 0,
            ...(c.LastModified ? { modified: c.LastModified } : {}),
          })
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token !== undefined)
    } catch (error) {
      throw objectStoreError(error, this.settings, 'listing')
    }
    return out
  }

  /** The header of `key`, or undefined if it does not exist. */
  async header(key: string, kind: number): Promise<Header | undefined> {
    let bytes: Uint8Array
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.settings.bucket,
          Key: key,
          Range: `bytes=0-${HEADER_BYTES - 1}`,
        }),
        { abortSignal: this.signal() },
      )
      bytes = out.Body === undefined ? new Uint8Array(0) : await out.Body.transformToByteArray()
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } }
      if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return undefined
      throw objectStoreError(error, this.settings, `reading ${key} of`)
    }
    return parseHeader(bytes.subarray(0, HEADER_BYTES), key, kind)
  }
}

/** Reads what the prefix holds (see the file's comment). */
export async function bucketStatus(client: S3Client, settings: S3Settings): Promise<BucketStatus> {
  const reader = new Reader(client, settings)
  const prefix = normalisePrefix(settings.prefix)
  const marker = await reader.header(`${prefix}lineage`, KIND_LINEAGE)
  if (marker === undefined) {
    throw new CliError(
      'ERR_REPLICATION_NOT_FOUND',
      `nothing was replicated to ${settings.where} (no lineage marker ${prefix}lineage); check --bucket and --prefix`,
      Exit.UNUSABLE,
    )
  }
  const logs = (await reader.list(`${prefix}log/`))
    .map((o) => ({
      ...o,
      seq: /^\d{16}$/.test(o.key.slice(prefix.length + 4))
        ? Number(o.key.slice(prefix.length + 4))
        : -1,
    }))
    .filter((o) => o.seq >= 0)
    .sort((a, b) => a.seq - b.seq)
  const snapshots: SnapshotInfo[] = []
  for (const o of await reader.list(`${prefix}snap/`)) {
    const m = /^(\d{16})-(\d{16})$/.exec(o.key.slice(prefix.length + 5))
    if (m === null) continue
    snapshots.push({
      seq: Number(m[1]),
      lsn: Number(m[2]),
      bytes: o.size,
      modified: o.modified?.toISOString(),
    })
  }
  snapshots.sort((a, b) => a.seq - b.seq)
  const newest = logs.at(-1)
  let head: Header | undefined
  if (newest !== undefined) head = await reader.header(`${prefix}log/${pad(newest.seq)}`, KIND_LOG)
  if (head !== undefined && head.lineage !== marker.lineage) {
    throw bad(
      `${prefix}log/${pad(newest!.seq)}`,
      `lineage ${head.lineage}, the marker's is ${marker.lineage}`,
    )
  }
  return {
    bucket: settings.bucket,
    prefix,
    lineage: marker.lineage,
    newestLsn: head?.lastLsn ?? marker.lastLsn,
    logObjects: logs.length,
    logBytes: logs.reduce((sum, o) => sum + o.size, 0),
    oldestSeq: logs[0]?.seq ?? 0,
    newestSeq: newest?.seq ?? 0,
    snapshots,
    newestShippedAt: head?.createdMs ?? marker.createdMs,
    ageMs: Math.max(0, Date.now() - (head?.createdMs ?? marker.createdMs)),
    newestModified: newest?.modified?.toISOString(),
  }
}

/**
 * The position of a local replica (or of the writer's store) in the bucket's history, from its
 * replication state file `<dir>/replication/<id>.json` (docs/replication-format.md, "Local
 * state"), read without opening the store, so it works while the replica or writer runs. The
 * staleness comes from the header of the first log object it has not applied.
 */
export async function replicaInfo(
  client: S3Client,
  settings: S3Settings,
  status: BucketStatus,
  dir: string,
): Promise<ReplicaInfo> {
  const id = createHash('sha256')
    .update(`${settings.bucket}\0${status.prefix}`)
    .digest('hex')
    .slice(0, 16)
  const path = join(dir, 'replication', `${id}.json`)
  let state: {
    lineage?: string
    seq?: number
    lastLsn?: number
    lastShippedAt?: number
    fenced?: string
  }
  try {
    state = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    const code = (error as { code?: string }).code
    const why = code === 'ENOENT' || code === 'ENOTDIR' ? `no ${path}` : `${path} is unreadable`
    throw new CliError(
      'ERR_NOT_A_REPLICA',
      `${dir} holds no replica of ${settings.where} (${why}): name a directory openReplica() or restore wrote`,
      Exit.UNUSABLE,
      { cause: error },
    )
  }
  if (typeof state.lastLsn !== 'number' || typeof state.seq !== 'number') {
    throw new CliError(
      'ERR_NOT_A_REPLICA',
      `${path} is not a replication state file`,
      Exit.UNUSABLE,
    )
  }
  if (state.lineage !== status.lineage) {
    throw new CliError(
      'ERR_NOT_A_REPLICA',
      `the replica in ${dir} follows lineage ${state.lineage}, the bucket now holds ${status.lineage}`,
      Exit.UNUSABLE,
    )
  }
  // The first log object with writes not applied there: the one it ended in, if a restore
  // stopped inside it (--to-lsn), else the next (or, if retention deleted that, the oldest).
  let stalenessMs = 0
  let lagObjects = Math.max(0, status.newestSeq - state.seq)
  if (status.newestLsn > state.lastLsn) {
    const reader = new Reader(client, settings)
    const log = (seq: number) => reader.header(`${status.prefix}log/${pad(seq)}`, KIND_LOG)
    let first = await log(state.seq)
    if (first !== undefined && first.lastLsn > state.lastLsn) lagObjects += 1
    else first = (await log(state.seq + 1)) ?? (await log(status.oldestSeq))
    stalenessMs = first === undefined ? 0 : Math.max(0, Date.now() - first.createdMs)
  }
  return {
    dir,
    lsn: state.lastLsn,
    seq: state.seq,
    lagLsn: Math.max(0, status.newestLsn - state.lastLsn),
    lagObjects,
    stalenessMs,
    appliedShippedAt: state.lastShippedAt,
    fenced: state.fenced,
  }
}
