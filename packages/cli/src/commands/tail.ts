import { type AlexStorage, AlexStorageError, type Change } from '@alex/storage'
import { CliError, Exit } from '../errors.js'
import { Interrupt } from '../interrupt.js'
import { LineWriter } from '../line-writer.js'
import { encodeChange } from '../ndjson.js'
import { openReadOnly } from '../store.js'

export interface TailOptions {
  since?: number
  limit?: number
  format?: string
  quiet?: boolean
}

/**
 * `alexstorage tail <dir>`: prints every change (put, delete) after `--since` (default: the
 * store's LSN when tail starts, so only new ones), one NDJSON line each, as they happen, until
 * `--limit` changes were printed or Ctrl-C. The store is opened read-only and follows the live
 * writer (in another process); the change feed (`db.changes()`) reads the log, so a backlog costs
 * the writer nothing. A position the log no longer holds is `ERR_LSN_TRIMMED` (exit 1).
 */
export async function tail(dir: string, options: TailOptions): Promise<number> {
  let feed: AsyncIterableIterator<Change> | undefined
  // Ctrl-C ends the feed: a waiting next() resolves done, the loop ends, the store is closed.
  // Installed first: a Ctrl-C during the open ends the command cleanly too.
  const interrupt = new Interrupt(() => void feed?.return?.())
  let db: AlexStorage
  try {
    db = await openReadOnly(dir, { cacheBytes: 0, follow: true })
  } catch (error) {
    interrupt.dispose()
    throw error
  }
  const out = new LineWriter(process.stdout)
  let position: number | undefined
  try {
    // Every write the writer acknowledged before tail started is visible first, so that "now"
    // (the default `since`) and a `--since` the writer gave out are both within this view.
    await db.catchUp()
    if (interrupt.interrupted) return Exit.OK
    position = options.since ?? db.lsn
    feed = db.changes({ since: position, limit: options.limit ?? Number.POSITIVE_INFINITY })
    notice(options, `following ${db.dir} after LSN ${position} (Ctrl-C to stop)`)
    for await (const change of feed) {
      await out.write(encodeChange(change))
      position = change.lsn
    }
    await out.flush()
    notice(options, `stopped after LSN ${position} (resume with --since ${position})`)
    return Exit.OK
  } catch (error) {
    await out.flush()
    throw trimmedError(error, db, position)
  } finally {
    interrupt.dispose()
    await db.close()
  }
}

/** A line on stderr that is not an error (the start and the resume point), unless --quiet. */
function notice(options: TailOptions, text: string): void {
  if (!options.quiet) process.stderr.write(`alexstorage tail: ${text}\n`)
}

/** `ERR_LSN_TRIMMED` in the tool's words: where the log begins now, what to do. */
function trimmedError(error: unknown, db: AlexStorage, position: number | undefined): unknown {
  if (!(error instanceof AlexStorageError) || error.code !== 'ERR_LSN_TRIMMED') return error
  const oldest = error.oldestLsn
  const from = position === undefined ? '' : ` after LSN ${position}`
  return new CliError(
    'ERR_LSN_TRIMMED',
    `the log of ${db.dir} no longer holds the changes${from}: the oldest LSN it holds is ${oldest} (a checkpoint let the rest go; keep more with the writer's logRetainBytes/logRetainMs); resume from a backup, or with --since ${oldest === undefined ? '<oldest - 1>' : oldest - 1} if the changes in between may be skipped`,
    Exit.DAMAGED,
    { cause: error },
  )
}
