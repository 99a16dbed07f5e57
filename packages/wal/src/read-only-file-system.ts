import { basename, dirname, resolve } from 'node:path'
import type { FileHandle, FileSystem, OpenFlags } from './file-system.js'
import { readWholeFile } from './read-whole-file.js'

/**
 * A copy-on-write view of a file system that never changes it: reads go to the files
 * underneath; creating, writing, truncating, renaming or deleting a file only changes an
 * in-memory overlay, and syncs do nothing. A read-only store opens its write-ahead log through
 * this (@alex/storage), because opening a log may repair a torn tail and starts a new segment,
 * and a read-only open must leave every byte on disk as it found it (a live writer may use them).
 */
export class ReadOnlyOverlayFileSystem implements FileSystem {
  private readonly base: FileSystem
  /** Files created or modified in the overlay, by absolute path. */
  private readonly files = new Map<string, MemoryFile>()
  /** Paths deleted (or renamed away) in the overlay. */
  private readonly deleted = new Set<string>()
  private readonly dirs = new Set<string>()

  constructor(base: FileSystem) {
    this.base = base
  }

  private visibleInBase(path: string): boolean {
    return !this.deleted.has(path) && this.base.exists(path)
  }

  open(path: string, flags: OpenFlags): FileHandle {
    const p = resolve(path)
    const shadow = this.files.get(p)
    if (flags === 'r') {
      if (shadow !== undefined) return new MemoryHandle(p, shadow, false)
      if (this.deleted.has(p)) throw enoent('open', p)
      return this.base.open(p, 'r')
    }
    if (flags === 'wx+' && (shadow !== undefined || this.visibleInBase(p))) {
      throw errno('EEXIST', 'open', p)
    }
    if (flags === 'r+') {
      if (shadow !== undefined) return new MemoryHandle(p, shadow, true)
      if (!this.visibleInBase(p)) throw enoent('open', p)
      const copy = new MemoryFile(readWholeFile(this.base, p, undefined, zeroed))
      this.files.set(p, copy)
      return new MemoryHandle(p, copy, true)
    }
    const file = new MemoryFile(new Uint8Array(0))
    this.files.set(p, file)
    this.deleted.delete(p)
    return new MemoryHandle(p, file, true)
  }

  readdir(dir: string): string[] {
    const d = resolve(dir)
    const names = new Set<string>()
    if (this.base.exists(d)) {
      for (const name of this.base.readdir(d)) {
        if (!this.deleted.has(resolve(d, name))) names.add(name)
      }
    } else if (!this.dirs.has(d)) {
      throw enoent('scandir', d)
    }
    for (const path of this.files.keys()) if (dirname(path) === d) names.add(basename(path))
    for (const path of this.dirs) if (dirname(path) === d) names.add(basename(path))
    return [...names]
  }

  mkdir(dir: string): void {
    const d = resolve(dir)
    if (!this.base.exists(d)) this.dirs.add(d)
  }

  exists(path: string): boolean {
    const p = resolve(path)
    return this.files.has(p) || this.dirs.has(p) || this.visibleInBase(p)
  }

  rename(from: string, to: string): void {
    const f = resolve(from)
    const t = resolve(to)
    const file =
      this.files.get(f) ??
      (this.visibleInBase(f)
        ? new MemoryFile(readWholeFile(this.base, f, undefined, zeroed))
        : undefined)
    if (file === undefined) throw enoent('rename', f)
    this.files.delete(f)
    this.deleted.add(f)
    this.files.set(t, file)
    this.deleted.delete(t)
  }

  unlink(path: string): void {
    const p = resolve(path)
    if (!this.files.delete(p) && !this.visibleInBase(p)) throw enoent('unlink', p)
    this.deleted.add(p)
  }

  syncDir(_dir: string): Promise<void> {
    return Promise.resolve()
  }
}

class MemoryFile {
  bytes: Uint8Array
  length: number
  constructor(bytes: Uint8Array) {
    this.bytes = bytes
    this.length = bytes.length
  }
}

class MemoryHandle implements FileHandle {
  readonly path: string
  private readonly file: MemoryFile
  private readonly writable: boolean

  constructor(path: string, file: MemoryFile, writable: boolean) {
    this.path = path
    this.file = file
    this.writable = writable
  }

  size(): number {
    return this.file.length
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    const n = Math.max(0, Math.min(length, this.file.length - position))
    buffer.set(this.file.bytes.subarray(position, position + n), offset)
    return n
  }

  write(buffer: Uint8Array, offset: number, length: number, position: number): void {
    if (!this.writable) throw errno('EBADF', 'write', this.path)
    const end = position + length
    if (end > this.file.bytes.length) {
      const grown = new Uint8Array(Math.max(end, this.file.bytes.length * 2))
      grown.set(this.file.bytes.subarray(0, this.file.length))
      this.file.bytes = grown
    }
    this.file.bytes.set(buffer.subarray(offset, offset + length), position)
    if (end > this.file.length) this.file.length = end
  }

  sync(): Promise<void> {
    return Promise.resolve()
  }

  syncSync(): void {}

  truncate(length: number): void {
    if (!this.writable) throw errno('EBADF', 'ftruncate', this.path)
    if (length > this.file.bytes.length) {
      const grown = new Uint8Array(length)
      grown.set(this.file.bytes.subarray(0, this.file.length))
      this.file.bytes = grown
    } else {
      this.file.bytes.fill(0, length, this.file.length)
    }
    this.file.length = length
  }

  close(): void {}
}

/** A zeroed array: the overlay's copies grow in place, so no stale bytes may be in them. */
function zeroed(size: number): Uint8Array {
  return new Uint8Array(size)
}

function errno(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: ${syscall} '${path}' (read-only overlay)`)
  err.code = code
  err.syscall = syscall
  err.path = path
  return err
}

function enoent(syscall: string, path: string): NodeJS.ErrnoException {
  return errno('ENOENT', syscall, path)
}
