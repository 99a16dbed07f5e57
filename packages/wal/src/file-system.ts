/**
 * The file-system interface every byte of @alex/wal (and of @alex/storage's data files) goes
 * through. It is deliberately small so that a fault-injecting implementation can model exactly
 * what a power cut does to it.
 *
 * Durability model (what an implementation must honour, and what callers may assume):
 * - `write` puts bytes in the OS page cache only. They survive a process crash (SIGKILL) but not
 *   a power cut until a later `sync()`/`syncSync()` of the same handle returns.
 * - A file's directory entry (creation, rename, unlink) survives a power cut only once
 *   `syncDir()` of its parent directory returns after the change.
 * - A failed `sync` means written data may be lost even though later reads still return it (the
 *   kernel may drop dirty pages and clear the error). Callers must never retry a failed sync and
 *   must treat the file as failed.
 *
 * Errors are thrown (or rejected) as Node-style errors carrying `code` (`ENOENT`, `EEXIST`, `EIO`,
 * `ENOSPC`, ...), as `node:fs` does.
 */

/**
 * How to open a file.
 * - `'r'`: read only; the file must exist.
 * - `'r+'`: read and write; the file must exist.
 * - `'wx+'`: create a new file for reading and writing; fails with `EEXIST` if it exists.
 * - `'w+'`: create or truncate, then read and write.
 */
export type OpenFlags = 'r' | 'r+' | 'wx+' | 'w+'

/** An open file. Positions are absolute byte offsets; there is no implicit file cursor. */
export interface FileHandle {
  /** The path this handle was opened with. */
  readonly path: string
  /** Current size in bytes (fstat). */
  size(): number
  /**
   * Reads up to `length` bytes at `position` into `buffer[offset..]`.
   * Returns the number of bytes read, fewer only at end of file.
   */
  read(buffer: Uint8Array, offset: number, length: number, position: number): number
  /**
   * Writes all of `buffer[offset .. offset + length)` at `position` (page cache only, see the
   * durability model). Throws on any error, including a short write (`ENOSPC`).
   */
  write(buffer: Uint8Array, offset: number, length: number, position: number): void
  /** fdatasync off the event loop. A rejection is final: never retry it. */
  sync(): Promise<void>
  /** fdatasync on the calling thread, for paths that are synchronous anyway. */
  syncSync(): void
  /** Sets the file's size; a later `sync` makes the new size durable. */
  truncate(length: number): void
  /** Closes the handle. Unsynced data stays in the page cache (it is not made durable). */
  close(): void
}

/** The directory-level operations. Paths are plain strings joined with `node:path`. */
export interface FileSystem {
  /** Opens (or creates, per `flags`) a file. */
  open(path: string, flags: OpenFlags): FileHandle
  /** Names (not paths) of the entries in `dir`, in no particular order. */
  readdir(dir: string): string[]
  /** Creates `dir` and its missing parents; no error if it exists. */
  mkdir(dir: string): void
  /** True if `path` names an existing file or directory. */
  exists(path: string): boolean
  /** Atomically replaces `to` with `from` (POSIX rename). Durable after `syncDir`. */
  rename(from: string, to: string): void
  /** Removes a file. Durable after `syncDir`. */
  unlink(path: string): void
  /** fsyncs a directory so the entries created, renamed or removed in it survive a power cut. */
  syncDir(dir: string): Promise<void>
}
