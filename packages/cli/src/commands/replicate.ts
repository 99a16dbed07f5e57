import {
  type ReplicationError,
  type ReplicationStats,
  type Replicator,
  replicate,
} from '@alex/replication'
import { AlexStorage, AlexStorageError } from '@alex/storage'
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3'
import { count } from '../command-helpers.js'
import { CliError, Exit, errorJson } from '../errors.js'
import { Interrupt } from '../interrupt.js'
import { bytes } from '../progress.js'
import {
  type BucketFlags,
  createS3Client,
  objectStoreError,
  replicationCliError,
  resolveS3Settings,
  type S3Settings,
} from '../s3-client.js'
import { mustBeStoreForWriting } from '../store.js'

export interface ReplicateCommandOptions extends BucketFlags {
  intervalMs?: number
  snapshotEveryMs?: number
  snapshotEveryBytes?: number
  maxObjectBytes?: number
  maxLagBytes?: number
  retainSnapshots?: number
  logRetainBytes?: number
  flushTimeoutMs: number
  once?: boolean
  json?: boolean
}

/**
 * `alexstorage replicate <dir>`: opens the store as its writer and ships it to the bucket with
 * `@alex/replication`'s `replicate()` until Ctrl-C or SIGTERM (or, with `--once`, until
 * everything is shipped), printing a progress line whenever the figures change; on the way out
 * it ships what is left (`flush()`, bounded by `--flush-timeout-ms`), then closes.
 *
 * Replication runs in the writer's process (it reads the writer's change feed), so the command
 * can only replicate a store no other process writes: with a writer running, the open fails with
 * `ERR_LOCKED`. An application that writes the store calls `replicate()` itself.
 */
export async function replicateCommand(
  dir: string,
  options: ReplicateCommandOptions,
): Promise<number> {
  const settings = resolveS3Settings(options)
  await mustBeStoreForWriting(dir, false)
  const client = createS3Client(settings)
  try {
    await probe(client, settings)
    // Installed before the open: a Ctrl-C from here on ends the command cleanly.
    const interrupt = new Interrupt()
    try {
      let db: AlexStorage
      try {
        // Nothing else writes meanwhile (the lock), so no compaction is needed. --log-retain-bytes:
        // this open's checkpoints keep that much log, so that writes another process makes
        // before the next run (keeping its own log) still ship as log objects.
        db = await AlexStorage.open(dir, {
          autoCompaction: false,
          ...(options.logRetainBytes === undefined
            ? {}
            : { logRetainBytes: options.logRetainBytes }),
        })
      } catch (error) {
        throw lockedError(error)
      }
      try {
        return await ship(db, client, settings, options, interrupt)
      } finally {
        await db.close()
      }
    } finally {
      interrupt.dispose()
    }
  } finally {
    client.destroy()
  }
}

/** Replicates until interrupted (or shipped, with --once), then flushes and closes. */
async function ship(
  db: AlexStorage,
  client: S3Client,
  settings: S3Settings,
  options: ReplicateCommandOptions,
  interrupt: Interrupt,
): Promise<number> {
  const out = new Reporter(Boolean(options.json))
  let rep: Replicator | undefined
  try {
    rep = await replicate(db, {
      bucket: settings.bucket,
      prefix: settings.prefix,
      client,
      requestTimeoutMs: settings.requestTimeoutMs,
      ...defined({
        intervalMs: options.intervalMs,
        snapshotEveryMs: options.snapshotEveryMs,
        snapshotEveryBytes: options.snapshotEveryBytes,
        maxObjectBytes: options.maxObjectBytes,
        maxLagBytes: options.maxLagBytes,
        retainSnapshots: options.retainSnapshots,
      }),
      // Every failed attempt (each is retried); the final failure is reported once, below.
      onError: (err) => {
        if (rep?.failed !== err) out.retry(err)
      },
    })
  } catch (error) {
    throw replicationCliError(error, settings)
  }
  out.start(db.dir, settings, options.intervalMs ?? 1000)
  let flushed = false
  const flushing = options.once
    ? rep.flush().then(
        () => {
          flushed = true
        },
        () => {}, // a failure shows in rep.failed
      )
    : undefined
  const tickMs = Math.max(100, Math.min(options.intervalMs ?? 1000, 1000))
  while (!interrupt.interrupted && rep.failed === undefined && !flushed) {
    await Promise.race([interrupt.sleep(tickMs), ...(flushing ? [flushing] : [])])
    out.statsIfChanged(rep.stats())
  }
  if (rep.failed === undefined && !flushed) {
    const target = rep.stats().lsn
    if (rep.stats().shippedLsn < target) {
      out.notice(`stopping: shipping up to LSN ${target} first (Ctrl-C again to stop at once)`)
    }
    const done = await withTimeout(rep.flush(), options.flushTimeoutMs).catch(() => true)
    if (!done && rep.failed === undefined) {
      const stats = rep.stats()
      await rep.close()
      out.stop(stats)
      throw new CliError(
        'ERR_FLUSH_TIMEOUT',
        `stopped with LSNs ${stats.shippedLsn + 1}..${stats.lsn} not shipped to ${settings.where}: the object store did not take them within ${options.flushTimeoutMs} ms (--flush-timeout-ms); the next replicate of this store ships them (through a new snapshot if its log was trimmed meanwhile)`,
        Exit.UNUSABLE,
      )
    }
  }
  const failed = rep.failed
  await rep.close()
  const stats = rep.stats()
  out.stop(stats)
  if (failed !== undefined) throw replicationCliError(failed, settings)
  return Exit.OK
}

/** The options that were given (the library refuses `undefined` for a number). */
function defined(options: Record<string, number | undefined>): Record<string, number> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Record<
    string,
    number
  >
}

/** True if `promise` settled within `ms`, false if not (a rejection passes through). */
function withTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  return Promise.race([promise.then(() => true), timeout]).finally(() => clearTimeout(timer))
}

/**
 * One request before the store is opened, so that a wrong endpoint, bucket or credentials fail
 * at once with one line (and exit 2) instead of retrying forever in the background: the
 * replicator rides out outages that happen later, not a target that never worked.
 */
async function probe(client: S3Client, settings: S3Settings): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: settings.bucket }), {
      abortSignal: AbortSignal.timeout(settings.requestTimeoutMs),
    })
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
    if (status === 404) {
      throw new CliError(
        'ERR_REPLICATION_OBJECT_STORE',
        `the bucket ${settings.bucket} does not exist (${settings.where}); create it first`,
        Exit.UNUSABLE,
        { cause: error },
      )
    }
    throw objectStoreError(error, settings, 'reaching the bucket of')
  }
}

/** `ERR_LOCKED` with what to do instead: replication of a live store runs in its writer. */
function lockedError(error: unknown): unknown {
  if (!(error instanceof AlexStorageError) || error.code !== 'ERR_LOCKED') return error
  return new CliError(
    'ERR_LOCKED',
    `${error.message}; replicate opens the store as its writer: a store another process writes is replicated from that process (replicate(db, ...) of @alex/replication)`,
    Exit.UNUSABLE,
    { cause: error },
  )
}

/** The progress lines: text on stdout (notices and retries on stderr), or NDJSON with --json. */
class Reporter {
  private last = ''

  constructor(private readonly json: boolean) {}

  private line(event: string, fields: Record<string, unknown>): void {
    process.stdout.write(
      `${JSON.stringify({ event, time: new Date().toISOString(), ...fields })}\n`,
    )
  }

  start(dir: string, settings: S3Settings, intervalMs: number): void {
    if (this.json) {
      this.line('start', {
        dir,
        bucket: settings.bucket,
        prefix: settings.prefix,
        endpoint: settings.endpoint ?? null,
        intervalMs,
      })
    } else {
      process.stdout.write(
        `replicating ${dir} to ${settings.where} every ${intervalMs} ms (Ctrl-C to stop)\n`,
      )
    }
  }

  statsIfChanged(stats: ReplicationStats): void {
    const key = [
      stats.state,
      stats.shippedLsn,
      stats.lsn,
      stats.failures,
      stats.snapshotsShipped,
    ].join()
    if (key === this.last) return
    this.last = key
    if (this.json) this.line('stats', statsJson(stats))
    else process.stdout.write(`${new Date().toISOString()} ${statsText(stats)}\n`)
  }

  retry(err: ReplicationError): void {
    if (this.json) this.line('retry', { error: errorJson(err) })
    else process.stderr.write(`alexstorage replicate: retrying after ${err.code}: ${err.message}\n`)
  }

  notice(text: string): void {
    if (!this.json) process.stderr.write(`alexstorage replicate: ${text}\n`)
  }

  stop(stats: ReplicationStats): void {
    if (this.json) this.line('stop', statsJson(stats))
    else process.stdout.write(`stopped: ${statsText(stats)}\n`)
  }
}

/** The replicator's figures as JSON (the last error as `{ code, message }`). */
function statsJson(stats: ReplicationStats): Record<string, unknown> {
  return {
    ...stats,
    lineage: stats.lineage ?? null,
    lastError: stats.lastError === undefined ? null : errorJson(stats.lastError),
    lastShippedAt:
      stats.lastShippedAt === undefined ? null : new Date(stats.lastShippedAt).toISOString(),
  }
}

function statsText(s: ReplicationStats): string {
  const failures =
    s.failures === 0 ? '0 failures' : `${count(s.failures, 'failure')} (last: ${s.lastError?.code})`
  return `shipped LSN ${s.shippedLsn} of ${s.lsn} (lag ${s.lagLsn} LSNs, ${bytes(s.lagBytes)}, ${s.lagMs} ms), ${count(s.objectsShipped, 'object')} (${bytes(s.bytesShipped)}), ${count(s.snapshotsShipped, 'snapshot')}, ${failures}${s.state === 'running' ? '' : `, ${s.state}`}`
}
