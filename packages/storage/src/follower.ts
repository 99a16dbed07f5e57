import { type FSWatcher, watch } from 'node:fs'
import { join } from 'node:path'
import { LogTail } from '@alex/wal'
import type { FileSystem } from '@alex/wal/io'
import type { AlexStorageError } from './errors.js'
import { walPath } from './file-names.js'
import { READERS_DIR, RECORD_HEADER_SIZE } from './format.js'
import { ReaderRegistration } from './reader-registry.js'
import { BeaconReader } from './visibility-beacon.js'
import { toStorageError } from './wal-errors.js'

/**
 * A reader that follows the writer (docs/architecture.md, section 12): it learns of new writes
 * from the writer's visibility beacon (a file-change notification, with a polling fallback),
 * reads the log from its own position up to the published LSN with a `LogTail`, and hands each
 * operation to the store, which applies it like recovery's replay. So a reader shows only
 * acknowledged writes, in order, batches whole (a log record is applied in one synchronous
 * step), and never goes back in time.
 *
 * When the log it needs was trimmed (the writer checkpointed past it: the reader was too slow,
 * or not registered yet), or when the values it holds in memory pass `reloadBytes`, it asks the
 * store to reload from the newest snapshot; it keeps serving its current state meanwhile.
 */

/** What the follower needs from the store. */
export interface FollowHost {
  /** Applies one operation read from the log (`value`: a view valid during the call). */
  apply(lsn: number, type: 'put' | 'delete', key: number, value: Uint8Array | undefined): void
  /** Every operation up to `lsn` has been applied. */
  advanced(lsn: number): void
  /**
   * Reloads from the newest snapshot plus the log up to `upTo`; resolves with the new position,
   * or `undefined` if that would not move forward (the store then keeps its state).
   */
  reload(upTo: number): Promise<number | undefined>
  /** The follower failed for good (damage in the log): reads go on, catching up stops. */
  failed(err: AlexStorageError): void
  /**
   * The lowest LSN + 1 this reader's own change feeds still need (Infinity with none): the
   * registration holds the writer's log from there, not only from the reader's position.
   */
  neededFrom(): number
}

/** A following reader's own figures (`stats().follow`). */
export interface FollowStats {
  /** The LSN the writer last published (what this reader is catching up to). */
  publishedLsn: number
  /** Times it reloaded from a newer snapshot (memory bound, or its log was trimmed). */
  reloads: number
  /** False once following stopped on an error (see `catchUp`); reads go on. */
  following: boolean
}

export interface FollowOptions {
  /** Polling interval of the fallback (ms). */
  intervalMs: number
  /** Watch the beacon for changes (real file systems only). */
  watch: boolean
  /** Reload from a newer snapshot once this many bytes of values were applied from the log. */
  reloadBytes: number
}

/**
 * Thrown by the log visitor at an operation whose LSN does not follow the last one: the log
 * skipped a range there (a bulk ingest's, docs/architecture.md, "Bulk ingest"). The record is
 * not consumed; the follower reloads from the newest snapshot, which holds the range.
 */
const LOG_GAP = new Error('the log skipped LSNs')

/** Operations applied per step before yielding to the event loop. */
const STEP_OPS = 4096
/** Progress is written to the registration at most this often (ms), and on every heartbeat. */
const REGISTRATION_WRITE_MS = 20

interface Waiter {
  target: number
  resolve: () => void
  reject: (err: unknown) => void
}

export class Follower {
  private readonly fs: FileSystem
  private readonly dir: string
  private readonly host: FollowHost
  private readonly options: FollowOptions
  private readonly beacon: BeaconReader
  private registration: ReaderRegistration | undefined
  private tail: LogTail | undefined
  private position: number
  private published = 0
  private caughtUpAt = Date.now()
  private appliedBytes = 0
  private waiters: Waiter[] = []
  private watcher: FSWatcher | undefined
  private timer: ReturnType<typeof setInterval> | undefined
  private scheduled = false
  private reloading = false
  private error: AlexStorageError | undefined
  private closed = false
  private lastRegistrationWrite = 0
  private reloads = 0
  /** True once registering was attempted after the open (it is not retried if it failed). */
  private registrationTried = false

  constructor(
    fs: FileSystem,
    dir: string,
    position: number,
    registration: ReaderRegistration | undefined,
    host: FollowHost,
    options: FollowOptions,
  ) {
    this.fs = fs
    this.dir = dir
    this.position = position
    this.published = position
    this.registration = registration
    this.host = host
    this.options = options
    this.beacon = new BeaconReader(fs, dir)
    this.timer = setInterval(() => this.schedule(), options.intervalMs)
    this.timer.unref()
    this.startWatching()
    this.writeRegistration(true)
    this.schedule()
  }

  /** LSN of the last operation applied. */
  get lsn(): number {
    return this.position
  }

  /** What `stats().follow` reports. */
  stats(): FollowStats {
    return {
      publishedLsn: this.published,
      reloads: this.reloads,
      following: this.error === undefined,
    }
  }

  /** Resolves once every write the writer acknowledged before the call is visible here. */
  catchUp(): Promise<void> {
    if (this.error !== undefined) return Promise.reject(this.error)
    let target: number
    try {
      target = this.beacon.read()?.lsn ?? this.published
    } catch (err) {
      return Promise.reject(toStorageError(err))
    }
    if (target <= this.position) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ target, resolve, reject })
      this.schedule()
    })
  }

  /** Stops following and deletes the registration. */
  close(err?: AlexStorageError): void {
    if (this.closed) return
    this.closed = true
    if (this.timer !== undefined) clearInterval(this.timer)
    this.watcher?.close()
    this.tail?.close()
    this.beacon.close()
    this.registration?.remove()
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) (err === undefined ? w.resolve : w.reject)(err as never)
  }

  private startWatching(): void {
    if (!this.options.watch) return
    try {
      // The directory, not the file: the beacon may not exist yet (no writer has run).
      this.watcher = watch(join(this.dir, READERS_DIR), { persistent: false }, () =>
        this.schedule(),
      )
      this.watcher.on('error', () => {
        this.watcher?.close()
        this.watcher = undefined // polling goes on
      })
    } catch {
      // No readers/ directory yet, or no inotify watches left: polling covers it.
    }
  }

  private schedule(): void {
    if (this.scheduled || this.closed || this.reloading || this.error !== undefined) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.step()
    })
  }

  /** One step: read the beacon, apply up to `STEP_OPS` operations, settle waiters. */
  private step(): void {
    if (this.closed || this.reloading || this.error !== undefined) return
    try {
      const beacon = this.beacon.read()
      if (beacon === undefined) return // no writer yet, or a torn read: next poll
      if (this.registration === undefined && !this.registrationTried) this.lateStart()
      this.published = beacon.lsn
      if (beacon.lsn > this.position) this.readLog(beacon.lsn)
      if (this.reloading) return
      if (this.position >= this.published) this.caughtUpAt = Date.now()
      else this.schedule() // more to read: yield to the event loop first
      this.settleWaiters()
      this.writeRegistration(false)
      if (this.appliedBytes > this.options.reloadBytes) this.startReload(this.published)
    } catch (err) {
      this.fail(toStorageError(err))
    }
  }

  /** The writer created `readers/` after this reader opened: register and watch now. */
  private lateStart(): void {
    this.registrationTried = true
    try {
      this.registration = ReaderRegistration.create(this.fs, this.dir, this.position)
    } catch {
      // Cannot register (a read-only mount): follow anyway (see registerReader).
    }
    if (this.watcher === undefined) this.startWatching()
  }

  private readLog(upTo: number): void {
    const host = this.host
    let tail = this.tail
    try {
      if (tail === undefined) {
        tail = LogTail.open(walPath(this.dir), { after: this.position, fs: this.fs })
        this.tail = tail
      }
      let next = tail.position + 1
      tail.read(
        upTo,
        (lsn, type, key, value) => {
          if (lsn !== next) throw LOG_GAP // a range the log skipped: see below
          host.apply(lsn, type, key, value)
          this.appliedBytes += RECORD_HEADER_SIZE + (value === undefined ? 0 : value.length)
          next = lsn + 1
        },
        STEP_OPS,
      )
    } catch (err) {
      if (err === LOG_GAP && tail !== undefined && tail.position > this.position) {
        this.position = tail.position // the operations before the gap were applied
        host.advanced(this.position)
      }
      if (err === LOG_GAP || (err as { code?: string }).code === 'ERR_LSN_TRIMMED') {
        this.startReload(upTo)
        return
      }
      throw err
    }
    if (tail.position > this.position) {
      this.position = tail.position
      host.advanced(this.position)
    }
    // The log skipped LSNs after the position: a bulk ingest wrote those operations to data
    // segments only (docs/architecture.md, "Bulk ingest"), and the newest snapshot holds them.
    if (tail.nextLsn > tail.position + 1 && tail.nextLsn - 1 <= upTo) this.startReload(upTo)
  }

  private startReload(upTo: number): void {
    this.reloading = true
    this.tail?.close()
    this.tail = undefined
    this.host.reload(upTo).then(
      (position) => {
        this.reloading = false
        if (position !== undefined && position >= this.position) {
          this.position = position
          this.appliedBytes = 0
          this.reloads++
        }
        if (!this.closed) this.schedule()
      },
      (err: unknown) => {
        this.reloading = false
        this.fail(toStorageError(err))
      },
    )
  }

  private settleWaiters(): void {
    if (this.waiters.length === 0) return
    const still: Waiter[] = []
    for (const w of this.waiters) {
      if (w.target <= this.position) w.resolve()
      else still.push(w)
    }
    this.waiters = still
  }

  private writeRegistration(force: boolean): void {
    const reg = this.registration
    if (reg === undefined) return
    const now = Date.now()
    // A change feed on this reader reading behind its position holds the log from there too.
    const held = Math.min(this.position, this.host.neededFrom() - 1)
    const changed = reg.record.lsn !== held
    if (!force && !(changed && now - this.lastRegistrationWrite >= REGISTRATION_WRITE_MS)) {
      if (now - this.lastRegistrationWrite < 1000) return
    }
    this.lastRegistrationWrite = now
    reg.update(Math.max(0, held), this.caughtUpAt)
  }

  private fail(err: AlexStorageError): void {
    if (this.closed) return
    this.error = err
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w.reject(err)
    this.host.failed(err)
  }
}
