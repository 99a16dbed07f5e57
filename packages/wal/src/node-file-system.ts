import * as fs from 'node:fs'
import type { FileHandle, FileSystem, OpenFlags } from './file-system.js'
import { trySyncOnThread } from './sync-thread.js'

/** A `FileHandle` over a real file descriptor. */
class NodeFileHandle implements FileHandle {
  readonly path: string
  private fd: number

  constructor(
    path: string,
    fd: number,
    private readonly syncThread: boolean,
  ) {
    this.path = path
    this.fd = fd
  }

  size(): number {
    return fs.fstatSync(this.fd).size
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    let done = 0
    while (done < length) {
      const n = fs.readSync(this.fd, buffer, offset + done, length - done, position + done)
      if (n === 0) break
      done += n
    }
    return done
  }

  write(buffer: Uint8Array, offset: number, length: number, position: number): void {
    let done = 0
    while (done < length) {
      // A short write is retried for the rest; a real failure (ENOSPC, EIO) throws.
      done += fs.writeSync(this.fd, buffer, offset + done, length - done, position + done)
    }
  }

  /**
   * fdatasync off the event loop: through the libuv thread pool, or with `syncThread` on the
   * process's sync thread when it is free (sync-thread.ts).
   */
  sync(): Promise<void> {
    if (this.syncThread) {
      const onThread = trySyncOnThread(this.fd)
      if (onThread !== undefined) return onThread
    }
    return new Promise((resolve, reject) => {
      fs.fdatasync(this.fd, (err) => (err ? reject(err) : resolve()))
    })
  }

  syncSync(): void {
    fs.fdatasyncSync(this.fd)
  }

  truncate(length: number): void {
    fs.ftruncateSync(this.fd, length)
  }

  close(): void {
    if (this.fd >= 0) {
      const fd = this.fd
      this.fd = -1
      fs.closeSync(fd)
    }
  }
}

/** Options of `NodeFileSystem`. */
export interface NodeFileSystemOptions {
  /**
   * Run file fdatasyncs on the process's dedicated sync thread when it is free (see
   * sync-thread.ts) instead of the libuv thread pool (default `false`: measured no faster than
   * the thread pool inside the store, and slower on a loaded machine; docs/benchmarks.md,
   * "Durable writes without blocking").
   */
  syncThread?: boolean
}

/** The real file system, through synchronous `node:fs` calls and asynchronous fsyncs. */
export class NodeFileSystem implements FileSystem {
  private readonly syncThread: boolean

  constructor(options: NodeFileSystemOptions = {}) {
    this.syncThread = options.syncThread ?? false
  }

  open(path: string, flags: OpenFlags): FileHandle {
    return new NodeFileHandle(path, fs.openSync(path, flags), this.syncThread)
  }

  readdir(dir: string): string[] {
    return fs.readdirSync(dir)
  }

  mkdir(dir: string): void {
    fs.mkdirSync(dir, { recursive: true })
  }

  exists(path: string): boolean {
    return fs.existsSync(path)
  }

  rename(from: string, to: string): void {
    fs.renameSync(from, to)
  }

  unlink(path: string): void {
    fs.unlinkSync(path)
  }

  syncDir(dir: string): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.open(dir, 'r', (openErr, fd) => {
        if (openErr) return reject(openErr)
        fs.fsync(fd, (syncErr) => {
          fs.close(fd, (closeErr) => {
            const err = syncErr ?? closeErr
            if (err) reject(err)
            else resolve()
          })
        })
      })
    })
  }
}

/** The shared real file system, used when no `fs` option is given. */
export const nodeFileSystem: FileSystem = new NodeFileSystem()
