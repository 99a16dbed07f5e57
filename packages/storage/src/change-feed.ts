import { type FileSystem, isWalError, LogTail } from '@alex/wal'
import { AlexStorageError, ErrorCode, readFailed, unknownKey } from './errors.js'
import type { LogRetention } from './log-retention.js'
import { toStorageError } from './wal-errors.js'

/**
 * The change feed (`db.changes()`; docs/architecture.md, "Change feed"): every operation after an
 * LSN, in LSN order, read from the write-ahead log's files with a `LogTail`, then the new ones as
 * they become visible, until the consumer stops or the store closes.
 *
 * Pull, never push: the writer keeps no per-change state for a feed. After each apply step it
 * calls `notifyApplied()`, which only resolves the one promise waiting feeds share (nothing at
 * all when none waits); a feed that is asked for more reads the log from disk, at most
 * `FEED_CHUNK` operations (whole batches) at a time, up to the store's applied LSN, never beyond
 * (a feed shows only what readers can see). A slow consumer therefore costs the writer nothing
 * but the log segments its retention hold keeps (`LogRetention`).
 */

/** One operation of the feed. */
export interface Change {
  /** The operation's LSN: pass it as `since` to resume right after it. */
  lsn: number
  type: 'put' | 'delete'
  key: number
  /** A put's value: a copy, the consumer's to keep. Absent for a delete. */
  value?: Uint8Array
  /**
   * True on the last operation of its atomic write: always for a lone `put`/`delete`, and on
   * the final operation of a `batch` (its others have `false`). A consumer that applies changes
   * elsewhere applies up to a `last: true` at a time, so a batch is never split there.
   */
  last: boolean
}

/** Options of `db.changes()`. */
export interface ChangesOptions {
  /**
   * Deliver the operations after this LSN (default: the store's current LSN, `db.stats().lsn`:
   * only new changes). An integer from 0 up to the current LSN.
   */
  since?: number
  /** End after this many changes (default: no limit). An integer >= 0, or `Infinity`. */
  limit?: number
}

/** What the feeds need of their store. */
export interface ChangeFeedSource {
  /** The real file system (never a read-only overlay): the feed reads the log's files. */
  fs: () => FileSystem
  /** The log's directory. */
  walDir: () => string
  /** The highest LSN visible to readers: a feed never reads beyond it. */
  appliedLsn: () => number
  /** Where each open feed holds the log from its position on. */
  retention: LogRetention
}

/** Operations read from the log per refill of a feed (whole batches: a larger one comes whole). */
export const FEED_CHUNK = 1024

const DONE: IteratorResult<Change> = { done: true, value: undefined }
const noop = () => {}

/**
 * The store's change feeds: creates them, wakes the waiting ones after each apply step, and ends
 * them all when the store closes.
 */
export class ChangeFeeds {
  private readonly feeds = new Set<ChangeFeed>()
  private wake: Promise<void> | undefined
  private resolveWake: (() => void) | undefined
  private closed = false

  constructor(private readonly source: ChangeFeedSource) {}

  /**
   * Wakes the feeds waiting for new changes. The writer calls it after each apply step (and a
   * following reader after it applied the writer's log): one check when no feed waits.
   */
  notifyApplied(): void {
    const resolve = this.resolveWake
    if (resolve === undefined) return
    this.resolveWake = undefined
    this.wake = undefined
    resolve()
  }

  /** A promise the next `notifyApplied()` (or `closeAll()`) resolves; shared by all waiters. */
  whenApplied(): Promise<void> {
    if (this.wake === undefined) {
      this.wake = new Promise<void>((resolve) => {
        this.resolveWake = resolve
      })
    }
    return this.wake
  }

  /**
   * A new feed (see `ChangesOptions`), holding the log from its start on. Throws
   * `ERR_INVALID_ARGUMENT` for bad options (a `since` above the store's LSN included).
   */
  open(options: unknown): ChangeFeed {
    if (this.closed) throw new AlexStorageError(ErrorCode.CLOSED, 'the store is closed')
    const { since, limit } = checkChangesOptions(options, this.source.appliedLsn())
    const feed = new ChangeFeed(this.source, this, since, limit)
    this.feeds.add(feed)
    return feed
  }

  /** A feed ended (called by the feed once). */
  forget(feed: ChangeFeed): void {
    this.feeds.delete(feed)
  }

  /** Ends every feed (the store is closing): waiting `next()` calls resolve done. */
  closeAll(): void {
    this.closed = true
    for (const feed of [...this.feeds]) feed.end()
    this.notifyApplied()
  }

  /** Open feeds. */
  get size(): number {
    return this.feeds.size
  }

  /**
   * Changes read from the log and not yet taken by their consumer, over every feed: at most
   * `FEED_CHUNK` (or one batch) per feed, whatever the writer does meanwhile.
   */
  get buffered(): number {
    let n = 0
    for (const feed of this.feeds) n += feed.buffered
    return n
  }
}

/** Validates `changes()`'s options against the store's current LSN. */
function checkChangesOptions(
  options: unknown,
  appliedLsn: number,
): { since: number; limit: number } {
  if (options === undefined) return { since: appliedLsn, limit: Number.POSITIVE_INFINITY }
  if (typeof options !== 'object' || options === null) {
    throw new AlexStorageError(ErrorCode.INVALID_ARGUMENT, 'changes() options must be an object')
  }
  const o = options as Record<string, unknown>
  for (const name of Object.keys(o)) {
    if (name !== 'since' && name !== 'limit') throw unknownKey('option', name, ['since', 'limit'])
  }
  const since = o.since ?? appliedLsn
  if (typeof since !== 'number' || !Number.isSafeInteger(since) || since < 0) {
    throw new AlexStorageError(
      ErrorCode.INVALID_ARGUMENT,
      `since must be an integer LSN >= 0 (got ${String(since)})`,
    )
  }
  if (since > appliedLsn) {
    throw new AlexStorageError(
      ErrorCode.INVALID_ARGUMENT,
      `since ${since} is ahead of the store's LSN ${appliedLsn} (a position from another store, or from before a restore?)`,
    )
  }
  const limit = o.limit ?? Number.POSITIVE_INFINITY
  if (
    typeof limit !== 'number' ||
    !(Number.isSafeInteger(limit) || limit === Number.POSITIVE_INFINITY) ||
    limit < 0
  ) {
    throw new AlexStorageError(
      ErrorCode.INVALID_ARGUMENT,
      `limit must be an integer >= 0 or Infinity (got ${String(limit)})`,
    )
  }
  return { since, limit }
}

/**
 * One consumer's feed: an async iterator (`for await`) over the changes after `since`. Calls to
 * `next()` are served one at a time, in order. `return()` (what `break` calls), the `limit`, an
 * error and the store's close end it: its log handle is closed and its retention hold released.
 */
export class ChangeFeed implements AsyncIterableIterator<Change> {
  /** LSN of the last change handed to the consumer (`since` before the first). */
  private position: number
  /** Up to this LSN the log has been read into `pending` (or found to hold nothing more). */
  private readTo: number
  private pending: Change[] = []
  private head = 0
  private remaining: number
  private tail: LogTail | undefined
  private done = false
  private readonly release: () => void
  private stop: () => void = noop
  private readonly stopped: Promise<void>
  /** The `next()` calls, one after the other. */
  private chain: Promise<unknown> = Promise.resolve()
  /** `next()` calls not yet settled. */
  private running = 0

  constructor(
    private readonly source: ChangeFeedSource,
    private readonly hub: ChangeFeeds,
    since: number,
    limit: number,
  ) {
    this.position = since
    this.readTo = since
    this.remaining = limit
    this.stopped = new Promise<void>((resolve) => {
      this.stop = resolve
    })
    this.release = source.retention.hold(() => this.position + 1)
    if (limit === 0) this.end()
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  /**
   * The next change: at once if one is read already or visible in the log, else once one
   * becomes visible. Resolves done after `return()`, the limit, or the store's close. Rejects
   * with `ERR_LSN_TRIMMED` (`oldestLsn`) if the log no longer holds the changes after `since`,
   * `ERR_CORRUPTION` if it cannot be read; the feed then ends.
   */
  next(): Promise<IteratorResult<Change>> {
    // The common case, a change already read and no call before this one still running: no
    // chaining (two promises and an async step fewer per change).
    if (this.running === 0 && this.head < this.pending.length && !this.done) {
      return Promise.resolve(this.take())
    }
    this.running++
    const result = this.chain.then(() => this.step())
    this.chain = result.then(this.settled, this.settled)
    return result
  }

  private readonly settled = () => {
    this.running--
  }

  /** Ends the feed (what `break` in `for await` calls); a waiting `next()` resolves done. */
  return(): Promise<IteratorResult<Change>> {
    this.end()
    return Promise.resolve(DONE)
  }

  /** Changes read and not yet taken (see `ChangeFeeds.buffered`). */
  get buffered(): number {
    return this.pending.length - this.head
  }

  /** Ends the feed: closes its log handle, releases its hold. Idempotent. */
  end(): void {
    if (this.done) return
    this.done = true
    this.pending = []
    this.head = 0
    this.release()
    this.tail?.close()
    this.tail = undefined
    this.hub.forget(this)
    this.stop()
  }

  private async step(): Promise<IteratorResult<Change>> {
    for (;;) {
      if (this.done) return DONE
      if (this.head < this.pending.length) return this.take()
      const upTo = this.source.appliedLsn()
      if (upTo > this.readTo) {
        this.fill(upTo)
        continue
      }
      await Promise.race([this.hub.whenApplied(), this.stopped])
    }
  }

  private take(): IteratorResult<Change> {
    const change = this.pending[this.head++]!
    this.position = change.lsn
    if (--this.remaining === 0) this.end()
    return { done: false, value: change }
  }

  /**
   * Opens the log after the feed's position. The log must hold the next LSN: its oldest segment
   * must start at or before it. (`LogTail` alone would start at the oldest operation it finds,
   * and a log that starts above the position, a trimmed one or the fresh log of a backup copy,
   * would then skip the operations in between without a word.)
   */
  private openTail(): LogTail {
    const tail = LogTail.open(this.source.walDir(), {
      after: this.position,
      fs: this.source.fs(),
    })
    try {
      const oldest = tail.oldestLsn()
      if (oldest > this.position + 1) {
        throw new AlexStorageError(
          ErrorCode.LSN_TRIMMED,
          `the log no longer holds LSN ${this.position + 1} (a checkpoint let it go); the oldest it holds is ${oldest}`,
          { oldestLsn: oldest },
        )
      }
    } catch (err) {
      tail.close()
      throw err
    }
    return tail
  }

  /** Reads the next chunk of the log, up to `upTo`, into `pending` (values copied). */
  private fill(upTo: number): void {
    const pending: Change[] = []
    let gap = false
    try {
      this.tail ??= this.openTail()
      const max = Math.min(FEED_CHUNK, this.remaining)
      let next = this.tail.position + 1
      this.tail.read(
        upTo,
        (lsn, type, key, value, last) => {
          if (lsn !== next) throw LOG_GAP // the record stays unread (see below)
          pending.push(
            type === 'put'
              ? { lsn, type, key, value: value!.slice(), last }
              : { lsn, type, key, last },
          )
          next = lsn + 1
        },
        max,
      )
    } catch (err) {
      if (err === LOG_GAP) gap = true
      else {
        this.end()
        // A log error in the store's vocabulary; an OS error is a failed read (of the feed only).
        if (err instanceof AlexStorageError || isWalError(err)) throw toStorageError(err)
        throw readFailed(this.source.walDir(), 0, err)
      }
    }
    // The log skipped LSNs after the position: a bulk ingest wrote those operations to data
    // segments only (docs/architecture.md, "Bulk ingest"), so no feed can deliver them. The
    // changes before the gap are delivered first; the read after them ends the feed here.
    const tail = this.tail!
    const skipped = gap || (tail.nextLsn > tail.position + 1 && tail.nextLsn - 1 <= upTo)
    if (skipped && pending.length === 0) {
      this.end()
      throw new AlexStorageError(
        ErrorCode.LSN_TRIMMED,
        `LSNs ${tail.position + 1} to ${tail.nextLsn - 1} are not in the log (a bulk ingest, ` +
          `db.ingest, wrote them to data segments directly); the log goes on at ${tail.nextLsn}`,
        { oldestLsn: tail.nextLsn },
      )
    }
    this.pending = pending
    this.head = 0
    // Nothing delivered means nothing up to `upTo` is left (LSNs skipped by a recovery).
    this.readTo = pending.length > 0 ? pending[pending.length - 1]!.lsn : upTo
  }
}

/**
 * Thrown by the log visitor at an operation whose LSN does not follow the last one read: the log
 * skipped a range there (a bulk ingest's). The record is not consumed.
 */
const LOG_GAP = new Error('the log skipped LSNs')
