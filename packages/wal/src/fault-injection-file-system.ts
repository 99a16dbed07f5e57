import { dirname, basename as pathBasename, resolve as resolvePath } from 'node:path'
import type { FileHandle, FileSystem, OpenFlags } from './file-system.js'
import { POWER_CUT_MODES, type PowerCutMode, survivingBytes } from './power-cut-image.js'

export type { PowerCutMode } from './power-cut-image.js'

/**
 * An in-memory `FileSystem` that models what a power cut does to unsynced data, and that can
 * fail or "crash" at a chosen operation. It is the test double for every durability argument in
 * @alex/wal and @alex/storage (after RocksDB's FaultInjectionTestFS and redb's crash backend).
 *
 * Model (the weakest guarantees the durability contract in file-system.ts promises):
 * - Each file keeps its current bytes (what reads return: the page cache) and its durable bytes
 *   (as of the last completed `sync`/`syncSync` of a handle on it). A `sync` captures the bytes
 *   at the moment it is called and makes them durable when its promise resolves.
 * - Each directory keeps its current entries and its durable entries (as of the last completed
 *   `syncDir`). Creations, renames and unlinks not covered by a later `syncDir` are undone by a
 *   power cut (the file vanishes, the old name comes back). Directories themselves (`mkdir`) are
 *   durable at once: a simplification, since the log and the store only create their own
 *   top-level directory.
 * - A failed sync (injected `EIO`) leaves the file's dirty bytes as "lost": later syncs do not
 *   make them durable unless they are written again (the Linux behaviour that makes retrying a
 *   failed fsync unsafe).
 * - `powerCut()` returns the surviving image as a new file system: durable directory entries,
 *   and per file its durable bytes plus, for the unsynced part, one of the `PowerCutMode`s
 *   (power-cut-image.ts): dropped, zeroed, garbled, a prefix kept, or any subset of its 512-byte
 *   sectors kept (out-of-order persistence).
 * - `crashAtOp(n)` makes the n-th mutating operation (see `MUTATING_OPS`) throw instead of
 *   running; from then on every call, on the file system or any handle, throws
 *   `ERR_SIMULATED_CRASH` and pending syncs reject. The test then takes `powerCut()`.
 * - `injectFault()` fails the n-th matching write/sync/... with `EIO`, `ENOSPC` or any code; an
 *   `ENOSPC` write may first write a prefix (`bytesWritten`).
 *
 * Paths are normalised with `path.resolve`, so use absolute paths (e.g. `/db/wal`).
 */

/** Every operation the file system counts. */
export type FsOpName =
  | 'open'
  | 'create'
  | 'read'
  | 'size'
  | 'write'
  | 'truncate'
  | 'sync'
  | 'close'
  | 'readdir'
  | 'mkdir'
  | 'exists'
  | 'rename'
  | 'unlink'
  | 'syncDir'

/**
 * The operations that can change what survives a crash. Crash points (`crashAtOp`) and
 * `mutatingOps` count only these: a cut before each of them, and one after the last, is every
 * distinct crash a workload can suffer.
 */
export const MUTATING_OPS: readonly FsOpName[] = [
  'create',
  'write',
  'truncate',
  'sync',
  'mkdir',
  'rename',
  'unlink',
  'syncDir',
]

/** One operation, as the `onOp` hook and the `log` see it. */
export interface FsOpEvent {
  /** 1-based position among mutating operations; 0 for the others. */
  index: number
  op: FsOpName
  path: string
  /** For `rename`: the new path. */
  to?: string
  /** For `write`: bytes written; for `truncate`: the new length. */
  bytes?: number
}

/** A fault to inject: the `nth` matching operation from now fails with `code`. */
export interface FaultSpec {
  op: 'write' | 'sync' | 'syncDir' | 'truncate' | 'rename' | 'unlink' | 'create' | 'read'
  /** 1-based: which matching operation (counted from the `injectFault` call) fails. */
  nth: number
  /** Error code, e.g. `'EIO'` or `'ENOSPC'`. */
  code: string
  /** Only operations on paths containing this string (or matching this RegExp) count. */
  path?: string | RegExp
  /** For a failing `write`: how many bytes are written before the error (default 0). */
  bytesWritten?: number
}

/** Options of `new FaultInjectionFileSystem()`. */
export interface FaultInjectionOptions {
  /** Seed of the random choices of `powerCut()` (default 1). */
  seed?: number
  /** Simulated fsync latency in ms (default 0: syncs resolve on the next macrotask). */
  syncDelayMs?: number
}

/** Options of `powerCut()`. */
export interface PowerCutOptions {
  /** How unsynced bytes fare; `'random'` (default) picks a mode per file. */
  mode?: PowerCutMode | 'random'
  /** Seed for this cut (default: the next value of the file system's generator). */
  seed?: number
}

/** The error code every call throws after a simulated crash. */
export const SIMULATED_CRASH = 'ERR_SIMULATED_CRASH'

class Inode {
  buf: Uint8Array
  size: number
  durable: Uint8Array
  /** Byte ranges [start, end) whose sync failed: not made durable until written again. */
  lost: Array<[number, number]> = []

  constructor(content: Uint8Array, durable: Uint8Array) {
    this.buf = new Uint8Array(Math.max(64, content.length))
    this.buf.set(content)
    this.size = content.length
    this.durable = durable
  }

  current(): Uint8Array {
    return this.buf.slice(0, this.size)
  }

  ensure(capacity: number): void {
    if (capacity <= this.buf.length) return
    const next = new Uint8Array(Math.max(capacity, this.buf.length * 2))
    next.set(this.buf.subarray(0, this.size))
    this.buf = next
  }

  /** What a sync issued now would make durable (lost ranges keep their old durable bytes). */
  syncImage(): Uint8Array {
    const image = this.current()
    for (const [start, end] of this.lost) {
      for (let i = start; i < end && i < image.length; i++) {
        image[i] = i < this.durable.length ? (this.durable[i] as number) : 0
      }
    }
    return image
  }

  /** Bytes written again are no longer lost. */
  clearLost(start: number, end: number): void {
    if (this.lost.length === 0) return
    const next: Array<[number, number]> = []
    for (const [a, b] of this.lost) {
      if (b <= start || a >= end) next.push([a, b])
      else {
        if (a < start) next.push([a, start])
        if (b > end) next.push([end, b])
      }
    }
    this.lost = next
  }
}

interface Dir {
  entries: Map<string, Inode>
  durable: Map<string, Inode>
}

/** Small seeded generator (mulberry32), so power cuts are reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function fsError(code: string, op: string, path: string, detail?: string): Error {
  const err = new Error(`${code}: ${detail ?? 'simulated failure'}, ${op} '${path}'`)
  return Object.assign(err, { code, syscall: op, path })
}

/** An open file of a `FaultInjectionFileSystem`. */
class FaultFileHandle implements FileHandle {
  readonly path: string
  private readonly owner: FaultInjectionFileSystem
  private readonly inode: Inode
  private readonly writable: boolean
  private closed = false

  constructor(owner: FaultInjectionFileSystem, path: string, inode: Inode, writable: boolean) {
    this.owner = owner
    this.path = path
    this.inode = inode
    this.writable = writable
  }

  private check(op: FsOpName): void {
    this.owner.beforeOp(op, this.path)
    if (this.closed) throw fsError('EBADF', op, this.path, 'handle is closed')
  }

  size(): number {
    this.check('size')
    return this.inode.size
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    this.check('read')
    const fault = this.owner.takeFault('read', this.path)
    if (fault) throw fsError(fault.code, 'read', this.path)
    const inode = this.inode
    if (position >= inode.size) return 0
    const n = Math.min(length, inode.size - position)
    buffer.set(inode.buf.subarray(position, position + n), offset)
    return n
  }

  write(buffer: Uint8Array, offset: number, length: number, position: number): void {
    this.check('write')
    if (!this.writable) throw fsError('EBADF', 'write', this.path, 'handle is read-only')
    const ev = this.owner.mutate('write', this.path, { bytes: length })
    const fault = this.owner.takeFault('write', this.path)
    let n = length
    if (fault) n = Math.min(length, Math.max(0, fault.bytesWritten ?? 0))
    const inode = this.inode
    inode.ensure(position + n)
    if (position > inode.size) inode.buf.fill(0, inode.size, position)
    inode.buf.set(buffer.subarray(offset, offset + n), position)
    if (position + n > inode.size) inode.size = position + n
    inode.clearLost(position, position + n)
    if (fault) {
      if (ev) ev.bytes = n
      throw fsError(fault.code, 'write', this.path)
    }
  }

  sync(): Promise<void> {
    try {
      this.check('sync')
      this.owner.mutate('sync', this.path)
      this.failSyncIfInjected()
    } catch (err) {
      return Promise.reject(err)
    }
    const image = this.inode.syncImage()
    return this.owner.later(() => {
      this.inode.durable = image
    })
  }

  syncSync(): void {
    this.check('sync')
    this.owner.mutate('sync', this.path)
    this.failSyncIfInjected()
    this.inode.durable = this.inode.syncImage()
  }

  private failSyncIfInjected(): void {
    const fault = this.owner.takeFault('sync', this.path)
    if (!fault) return
    // The dirty bytes are marked clean without reaching the disk: later syncs skip them.
    const inode = this.inode
    const durable = inode.durable
    let first = 0
    const common = Math.min(durable.length, inode.size)
    while (first < common && durable[first] === inode.buf[first]) first++
    if (first < inode.size) inode.lost.push([first, inode.size])
    throw fsError(fault.code, 'fdatasync', this.path)
  }

  truncate(length: number): void {
    this.check('truncate')
    if (!this.writable) throw fsError('EBADF', 'ftruncate', this.path, 'handle is read-only')
    this.owner.mutate('truncate', this.path, { bytes: length })
    const fault = this.owner.takeFault('truncate', this.path)
    if (fault) throw fsError(fault.code, 'ftruncate', this.path)
    const inode = this.inode
    if (length > inode.size) {
      inode.ensure(length)
      inode.buf.fill(0, inode.size, length)
    }
    inode.size = length
  }

  /** Closing twice is a no-op, as with `NodeFileSystem`. */
  close(): void {
    this.owner.beforeOp('close', this.path)
    if (this.closed) return
    this.closed = true
    this.owner.handleClosed()
  }
}

/** The fault-injecting, power-cut-simulating in-memory file system. See the module comment. */
export class FaultInjectionFileSystem implements FileSystem {
  /** How many times each operation ran (including ones that failed). */
  readonly opCounts: Record<FsOpName, number> = {
    open: 0,
    create: 0,
    read: 0,
    size: 0,
    write: 0,
    truncate: 0,
    sync: 0,
    close: 0,
    readdir: 0,
    mkdir: 0,
    exists: 0,
    rename: 0,
    unlink: 0,
    syncDir: 0,
  }
  /** Every mutating operation so far, in order (crash points are positions in this log). */
  readonly log: FsOpEvent[] = []
  /** Called before every operation (mutating or not), e.g. to trace a workload. */
  onOp: ((event: FsOpEvent) => void) | undefined = undefined

  private readonly dirs = new Map<string, Dir>()
  private handles = 0
  private readonly faults: Array<{ spec: FaultSpec; seen: number }> = []
  private readonly random: () => number
  private readonly syncDelayMs: number
  private crashAt = 0
  private isCrashed = false
  private readonly pendingRejects = new Set<(err: Error) => void>()

  constructor(options: FaultInjectionOptions = {}) {
    this.random = mulberry32(options.seed ?? 1)
    this.syncDelayMs = options.syncDelayMs ?? 0
    this.dirs.set('/', { entries: new Map(), durable: new Map() })
  }

  /** Number of mutating operations so far. */
  get mutatingOps(): number {
    return this.log.length
  }

  /** Handles opened and not yet closed (to catch leaks). */
  get openHandles(): number {
    return this.handles
  }

  /** True once a simulated crash happened. */
  get crashed(): boolean {
    return this.isCrashed
  }

  // ---- FileSystem -------------------------------------------------------------------------

  open(path: string, flags: OpenFlags): FileHandle {
    path = resolvePath(path)
    this.beforeOp('open', path)
    const dir = this.parentOf(path, 'open')
    const name = pathBasename(path)
    let inode = dir.entries.get(name)
    if (flags === 'r' || flags === 'r+') {
      if (!inode) throw fsError('ENOENT', 'open', path, 'no such file or directory')
    } else {
      if (inode && flags === 'wx+') throw fsError('EEXIST', 'open', path, 'file already exists')
      if (this.dirs.has(path)) throw fsError('EISDIR', 'open', path, 'is a directory')
      this.mutate('create', path)
      const fault = this.takeFault('create', path)
      if (fault) throw fsError(fault.code, 'open', path)
      if (inode) inode.size = 0
      else {
        inode = new Inode(new Uint8Array(0), new Uint8Array(0))
        dir.entries.set(name, inode)
      }
    }
    this.handles++
    return new FaultFileHandle(this, path, inode, flags !== 'r')
  }

  readdir(dir: string): string[] {
    dir = resolvePath(dir)
    this.beforeOp('readdir', dir)
    const d = this.dirs.get(dir)
    if (!d) throw fsError('ENOENT', 'scandir', dir, 'no such file or directory')
    const names = [...d.entries.keys()]
    for (const other of this.dirs.keys()) {
      if (other !== dir && other !== '/' && dirname(other) === dir) names.push(pathBasename(other))
    }
    return names
  }

  mkdir(dir: string): void {
    dir = resolvePath(dir)
    this.beforeOp('mkdir', dir)
    if (this.dirs.has(dir)) return
    this.mutate('mkdir', dir)
    const parts: string[] = []
    for (let d = dir; !this.dirs.has(d); d = dirname(d)) parts.push(d)
    for (const d of parts.reverse()) {
      const parent = this.dirs.get(dirname(d))
      if (parent?.entries.has(pathBasename(d))) throw fsError('EEXIST', 'mkdir', d, 'is a file')
      this.dirs.set(d, { entries: new Map(), durable: new Map() })
    }
  }

  exists(path: string): boolean {
    path = resolvePath(path)
    this.beforeOp('exists', path)
    if (this.dirs.has(path)) return true
    return this.dirs.get(dirname(path))?.entries.has(pathBasename(path)) ?? false
  }

  rename(from: string, to: string): void {
    from = resolvePath(from)
    to = resolvePath(to)
    this.beforeOp('rename', from)
    const src = this.parentOf(from, 'rename')
    const dst = this.parentOf(to, 'rename')
    const inode = src.entries.get(pathBasename(from))
    if (!inode) throw fsError('ENOENT', 'rename', from, 'no such file or directory')
    this.mutate('rename', from, { to })
    const fault = this.takeFault('rename', from)
    if (fault) throw fsError(fault.code, 'rename', from)
    src.entries.delete(pathBasename(from))
    dst.entries.set(pathBasename(to), inode)
  }

  unlink(path: string): void {
    path = resolvePath(path)
    this.beforeOp('unlink', path)
    const dir = this.parentOf(path, 'unlink')
    if (!dir.entries.has(pathBasename(path))) {
      throw fsError('ENOENT', 'unlink', path, 'no such file or directory')
    }
    this.mutate('unlink', path)
    const fault = this.takeFault('unlink', path)
    if (fault) throw fsError(fault.code, 'unlink', path)
    dir.entries.delete(pathBasename(path))
  }

  syncDir(dir: string): Promise<void> {
    dir = resolvePath(dir)
    try {
      this.beforeOp('syncDir', dir)
      const d = this.dirs.get(dir)
      if (!d) throw fsError('ENOENT', 'open', dir, 'no such file or directory')
      this.mutate('syncDir', dir)
      const fault = this.takeFault('syncDir', dir)
      if (fault) throw fsError(fault.code, 'fsync', dir)
      const snapshot = new Map(d.entries)
      return this.later(() => {
        d.durable = snapshot
      })
    } catch (err) {
      return Promise.reject(err)
    }
  }

  // ---- faults and crashes -----------------------------------------------------------------

  /** Arms a one-shot fault: the `spec.nth` matching operation from now fails with `spec.code`. */
  injectFault(spec: FaultSpec): void {
    if (!(spec.nth >= 1)) throw new RangeError('FaultSpec.nth must be >= 1')
    this.faults.push({ spec, seen: 0 })
  }

  /** Disarms every fault not yet triggered. */
  clearFaults(): void {
    this.faults.length = 0
  }

  /**
   * Crashes when mutating operation number `n` (1-based, counted since this file system was
   * created; see `mutatingOps` and `log`) is about to run: it does not happen, and it and every
   * later call throw `ERR_SIMULATED_CRASH`.
   */
  crashAtOp(n: number): void {
    this.crashAt = n
  }

  /** Crashes now (like `crashAtOp` on the next mutating operation, but immediately). */
  crash(): void {
    if (this.isCrashed) return
    this.isCrashed = true
    const err = fsError(SIMULATED_CRASH, 'crash', '/', 'simulated crash')
    for (const reject of this.pendingRejects) reject(err)
    this.pendingRejects.clear()
  }

  /**
   * The image a power cut leaves (taken now; crashes this file system if it has not crashed):
   * durable directory entries, and per file its durable bytes plus, for the bytes written since
   * the last sync, what `options.mode` says. Returns a fresh file system holding that image, all
   * of it durable, with counters at zero.
   */
  powerCut(options: PowerCutOptions = {}): FaultInjectionFileSystem {
    this.crash()
    const rand = mulberry32(options.seed ?? Math.floor(this.random() * 2 ** 32))
    const next = new FaultInjectionFileSystem({
      seed: Math.floor(rand() * 2 ** 32),
      syncDelayMs: this.syncDelayMs,
    })
    const images = new Map<Inode, Inode>()
    for (const [path, dir] of this.dirs) {
      const copy: Dir = { entries: new Map(), durable: new Map() }
      for (const [name, inode] of dir.durable) {
        let image = images.get(inode)
        if (!image) {
          const mode =
            options.mode === undefined || options.mode === 'random'
              ? (POWER_CUT_MODES[Math.floor(rand() * POWER_CUT_MODES.length)] as PowerCutMode)
              : options.mode
          const bytes = survivingBytes(inode.durable, inode.syncImage(), mode, rand)
          image = new Inode(bytes, bytes.slice())
          images.set(inode, image)
        }
        copy.entries.set(name, image)
        copy.durable.set(name, image)
      }
      next.dirs.set(path, copy)
    }
    return next
  }

  /**
   * The state after the process dies but the machine does not (SIGKILL): every write is still
   * in the page cache, and still only as durable as it was. Crashes this file system and returns
   * a fresh one holding that state.
   */
  processCrash(): FaultInjectionFileSystem {
    this.crash()
    return this.copyState()
  }

  /** A copy of the current state (current and durable) with counters at zero and no faults. */
  clone(): FaultInjectionFileSystem {
    return this.copyState()
  }

  // ---- inspection helpers (not counted, usable after a crash) -----------------------------

  /** Current bytes of a file (what a read returns now). */
  readFile(path: string): Uint8Array {
    return this.inodeOf(path).current()
  }

  /** Durable bytes of a file (what it holds after a power cut in `'drop'` mode). */
  readDurableFile(path: string): Uint8Array {
    return this.inodeOf(path).durable.slice()
  }

  /**
   * Creates or replaces a file with `data`, durable at once (file and directory entry). For
   * setting up fixtures, e.g. a damaged segment; the parent directory is created if needed.
   */
  writeFile(path: string, data: Uint8Array): void {
    path = resolvePath(path)
    const parent = dirname(path)
    for (let d = parent; !this.dirs.has(d); d = dirname(d)) {
      this.dirs.set(d, { entries: new Map(), durable: new Map() })
    }
    const dir = this.dirs.get(parent) as Dir
    const inode = new Inode(data, data.slice())
    dir.entries.set(pathBasename(path), inode)
    dir.durable.set(pathBasename(path), inode)
  }

  /** Paths of every file, sorted. */
  listFiles(): string[] {
    const out: string[] = []
    for (const [path, dir] of this.dirs) {
      for (const name of dir.entries.keys()) out.push(path === '/' ? `/${name}` : `${path}/${name}`)
    }
    return out.sort()
  }

  // ---- internals shared with handles ------------------------------------------------------

  /** @internal A handle was closed. */
  handleClosed(): void {
    this.handles--
  }

  /** @internal Throws if crashed; reports the operation to `onOp` and the counters. */
  beforeOp(op: FsOpName, path: string): void {
    if (this.isCrashed) throw fsError(SIMULATED_CRASH, op, path, 'file system has crashed')
    this.opCounts[op]++
    if (this.onOp && !MUTATING_OPS.includes(op)) this.onOp({ index: 0, op, path })
  }

  /** @internal Logs a mutating operation, crashing instead if it is the chosen crash point. */
  mutate(
    op: FsOpName,
    path: string,
    extra: { to?: string; bytes?: number } = {},
  ): FsOpEvent | undefined {
    const index = this.log.length + 1
    if (this.crashAt > 0 && index >= this.crashAt) {
      this.crash()
      throw fsError(SIMULATED_CRASH, op, path, 'simulated crash')
    }
    const event: FsOpEvent = { index, op, path, ...extra }
    this.log.push(event)
    if (op === 'create') this.opCounts.create++
    this.onOp?.(event)
    return event
  }

  /** @internal Returns (and disarms) the fault that fires for this operation, if any. */
  takeFault(op: FaultSpec['op'], path: string): FaultSpec | undefined {
    for (let i = 0; i < this.faults.length; i++) {
      const f = this.faults[i] as { spec: FaultSpec; seen: number }
      if (f.spec.op !== op) continue
      const p = f.spec.path
      if (p !== undefined && !(typeof p === 'string' ? path.includes(p) : p.test(path))) continue
      f.seen++
      if (f.seen === f.spec.nth) {
        this.faults.splice(i, 1)
        return f.spec
      }
    }
    return undefined
  }

  /** @internal Resolves after the simulated sync latency, applying `effect` unless crashed. */
  later(effect: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pendingRejects.add(reject)
      const done = () => {
        if (!this.pendingRejects.delete(reject)) return
        effect()
        resolve()
      }
      if (this.syncDelayMs > 0) setTimeout(done, this.syncDelayMs)
      else setImmediate(done)
    })
  }

  private parentOf(path: string, op: string): Dir {
    const dir = this.dirs.get(dirname(path))
    if (!dir) throw fsError('ENOENT', op, path, 'no such file or directory')
    return dir
  }

  private inodeOf(path: string): Inode {
    path = resolvePath(path)
    const inode = this.dirs.get(dirname(path))?.entries.get(pathBasename(path))
    if (!inode) throw fsError('ENOENT', 'open', path, 'no such file or directory')
    return inode
  }

  private copyState(): FaultInjectionFileSystem {
    const next = new FaultInjectionFileSystem({
      seed: Math.floor(this.random() * 2 ** 32),
      syncDelayMs: this.syncDelayMs,
    })
    const copies = new Map<Inode, Inode>()
    const copyOf = (inode: Inode): Inode => {
      let c = copies.get(inode)
      if (!c) {
        c = new Inode(inode.current(), inode.durable.slice())
        c.lost = inode.lost.map(([a, b]) => [a, b])
        copies.set(inode, c)
      }
      return c
    }
    for (const [path, dir] of this.dirs) {
      const entries = new Map<string, Inode>()
      const durable = new Map<string, Inode>()
      for (const [name, inode] of dir.entries) entries.set(name, copyOf(inode))
      for (const [name, inode] of dir.durable) durable.set(name, copyOf(inode))
      next.dirs.set(path, { entries, durable })
    }
    return next
  }
}
