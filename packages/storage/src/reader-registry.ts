import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { threadId } from 'node:worker_threads'
import type { FileHandle, FileSystem } from '@alex/wal/io'
import { tempName } from './file-names.js'
import { READER_FILE_BYTES, READER_HEADER, READER_SUFFIX, READERS_DIR } from './format.js'
import { isProcessAlive, processStartTime } from './process-info.js'

/**
 * Reader registrations (docs/storage-format.md, section 11): every following reader keeps a
 * small text file `readers/<token>.reader` saying who it is (process, start time, host, thread)
 * and how far it has applied the log (`lsn`). The writer reads them to keep the log segments
 * readers still need (`retentionFloor`), to report them in `stats().readers`, and to reap the
 * registrations of readers that died without closing.
 *
 * A registration is rewritten in place (one `pwrite` of the whole padded text, no fsync: only
 * live processes read it, and a power cut ends every reader). A registration is created
 * complete (written to a temporary name, then renamed), so a torn one can only be a read that
 * raced a rewrite: the writer skips it for that scan. Skipping is safe: at worst the log a
 * reader needs is trimmed, and the reader then reloads from the newest snapshot.
 */

/** What a registration says. */
export interface ReaderRecord {
  token: string
  pid: number
  /** Process start time (clock ticks since boot), 0 where unknown. */
  start: number
  host: string
  /** `worker_threads.threadId` of the reader (0: the main thread). */
  thread: number
  /** Highest LSN the reader has applied. */
  lsn: number
  /** When the reader last had everything the writer had published (ms since the epoch). */
  caughtUpAt: number
  /** The reader's last heartbeat (ms since the epoch); it beats every `HEARTBEAT_MS`. */
  beat: number
}

/** How often a reader rewrites its registration when nothing else changed. */
export const HEARTBEAT_MS = 1000
/** A registration not rewritten for this long no longer holds the log (its reader is stuck). */
export const STALE_MS = 30_000
/** A registration not rewritten for this long is deleted (a thread that died without closing). */
export const REAP_MS = 300_000

/** Formats a registration, padded with spaces to `READER_FILE_BYTES`. */
export function formatReader(r: ReaderRecord): string {
  const text =
    `${READER_HEADER}\ntoken=${r.token}\npid=${r.pid}\nstart=${r.start}\nhost=${r.host}\n` +
    `thread=${r.thread}\nlsn=${r.lsn}\ncaughtUpAt=${r.caughtUpAt}\nbeat=${r.beat}\nend\n`
  return text.padEnd(READER_FILE_BYTES, ' ')
}

/** Parses a registration; `undefined` if incomplete (torn) or not one. */
export function parseReader(text: string): ReaderRecord | undefined {
  const lines = text.split('\n')
  if (lines[0] !== READER_HEADER || !lines.includes('end')) return undefined
  const f = new Map<string, string>()
  for (const line of lines) {
    const eq = line.indexOf('=')
    if (eq > 0) f.set(line.slice(0, eq), line.slice(eq + 1))
  }
  const num = (name: string) => Number(f.get(name))
  const r: ReaderRecord = {
    token: f.get('token') ?? '',
    pid: num('pid'),
    start: num('start'),
    host: f.get('host') ?? '',
    thread: num('thread'),
    lsn: num('lsn'),
    caughtUpAt: num('caughtUpAt'),
    beat: num('beat'),
  }
  for (const v of [r.pid, r.start, r.thread, r.lsn, r.caughtUpAt, r.beat]) {
    if (!Number.isSafeInteger(v) || v < 0) return undefined
  }
  return r.token === '' ? undefined : r
}

/** The reader's own registration. */
export class ReaderRegistration {
  readonly record: ReaderRecord
  private readonly fs: FileSystem
  private path: string
  private handle: FileHandle | undefined
  private readonly encoder = new TextEncoder()

  private constructor(fs: FileSystem, path: string, record: ReaderRecord, handle: FileHandle) {
    this.fs = fs
    this.path = path
    this.record = record
    this.handle = handle
  }

  /**
   * Registers a reader of store `dir` that has applied up to `lsn`. Creates `readers/` if
   * missing (the only thing a reader ever creates in a store).
   */
  static create(fs: FileSystem, dir: string, lsn: number): ReaderRegistration {
    const now = Date.now()
    const record: ReaderRecord = {
      token: randomBytes(8).toString('hex'),
      pid: process.pid,
      start: processStartTime(process.pid),
      host: hostname(),
      thread: threadId,
      lsn,
      caughtUpAt: now,
      beat: now,
    }
    fs.mkdir(join(dir, READERS_DIR))
    const path = join(dir, READERS_DIR, record.token + READER_SUFFIX)
    const temp = tempName(path)
    const handle = fs.open(temp, 'wx+')
    const reg = new ReaderRegistration(fs, temp, record, handle)
    try {
      reg.write()
      fs.rename(temp, path) // the handle follows the file to its new name
      reg.path = path
    } catch (err) {
      reg.remove()
      throw err
    }
    return reg
  }

  /** Records progress (and beats). */
  update(lsn: number, caughtUpAt: number): void {
    this.record.lsn = lsn
    this.record.caughtUpAt = caughtUpAt
    this.write()
  }

  /** Rewrites the registration with a fresh heartbeat. */
  write(): void {
    if (this.handle === undefined) return
    this.record.beat = Date.now()
    const bytes = this.encoder.encode(formatReader(this.record))
    this.handle.write(bytes, 0, bytes.length, 0)
  }

  /** Deletes the registration (close). Safe to call twice; errors are ignored (reaped later). */
  remove(): void {
    const handle = this.handle
    if (handle === undefined) return
    this.handle = undefined
    try {
      handle.close()
      this.fs.unlink(this.path)
    } catch {
      // The writer reaps a registration whose reader is gone.
    }
  }
}

/** A registration as the writer sees it. */
export interface RegisteredReader extends ReaderRecord {
  /** False if its heartbeat is older than `STALE_MS` (it then holds no log). */
  live: boolean
}

/**
 * Reads every registration of store `dir`, deleting those of dead readers (their process is
 * gone, or no heartbeat for `REAP_MS`).
 */
export function scanReaders(fs: FileSystem, dir: string, now = Date.now()): RegisteredReader[] {
  const readersDir = join(dir, READERS_DIR)
  let names: string[]
  try {
    names = fs.readdir(readersDir)
  } catch {
    return [] // no reader ever registered
  }
  const host = hostname()
  const out: RegisteredReader[] = []
  for (const name of names) {
    if (!name.endsWith(READER_SUFFIX)) continue
    const path = join(readersDir, name)
    const text = readText(fs, path)
    if (text === undefined) continue // closed meanwhile
    const r = parseReader(text)
    if (r === undefined) continue // a read that raced a rewrite: skipped (see the module comment)
    const dead = (r.host === host && !isProcessAlive(r.pid, r.start)) || now - r.beat > REAP_MS
    if (dead) {
      try {
        fs.unlink(path)
      } catch {
        // Someone else reaped it.
      }
      continue
    }
    out.push({ ...r, live: now - r.beat <= STALE_MS })
  }
  return out
}

function readText(fs: FileSystem, path: string): string | undefined {
  let handle: FileHandle
  try {
    handle = fs.open(path, 'r')
  } catch {
    return undefined
  }
  try {
    const buf = new Uint8Array(READER_FILE_BYTES)
    const got = handle.read(buf, 0, READER_FILE_BYTES, 0)
    return new TextDecoder().decode(buf.subarray(0, got))
  } finally {
    handle.close()
  }
}

/** The LSN from which the log must be kept for the live readers (Infinity with none). */
export function readersFloor(readers: readonly RegisteredReader[]): number {
  let floor = Number.POSITIVE_INFINITY
  for (const r of readers) if (r.live && r.lsn + 1 < floor) floor = r.lsn + 1
  return floor
}
