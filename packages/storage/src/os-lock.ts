import {
  closeSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmdirSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'
import { AlexStorageError, ErrorCode } from './errors.js'
import { LOCK_FILE } from './format.js'
import {
  claimDirName,
  claimDirPid,
  currentOwner,
  formatLock,
  type LockOwner,
  newToken,
  OWNER_PREFIX,
  ownerFileName,
  parseLock,
} from './lock-owner.js'
import { holdsOpenFile, isProcessAlive } from './process-info.js'

/**
 * The single-writer lock on the real file system (docs/storage-format.md, section 7): a
 * directory `<store>/LOCK/` holding exactly one file, `owner-<token>`, whose text names the
 * owner; an empty or missing `LOCK/` is free. A contender builds its complete owner file in a
 * private directory and renames that directory onto `LOCK`: the kernel lets a directory replace a
 * missing name or an empty directory, atomically, and refuses a non-empty one, so of any number of
 * contenders exactly one installs its owner, and nobody ever sees an empty or partial owner file.
 * A stale owner is claimed by unlinking its token-specific file, which only one contender can do
 * and which can never remove a newer owner (whose file has another name).
 *
 * Only for the real OS file system: the protocol needs directory rename, `rmdir` and
 * /proc/self/fd, which the `FileSystem` interface does not model (see simulated-lock.ts).
 */

/** Rounds of look, claim and rename before giving up with `ERR_LOCKED`. */
const MAX_ROUNDS = 20

/** What one look at `<store>/LOCK` found. */
type Sighting =
  | { kind: 'free' }
  | { kind: 'changed' }
  | { kind: 'held'; message: string }
  | { kind: 'stale'; owner: LockOwner | 'unreadable'; file: string; legacy: boolean }

const FREE: Sighting = { kind: 'free' }
const CHANGED: Sighting = { kind: 'changed' }

/** A contender's private directory with its complete, fsynced owner file, kept open. */
interface Claim {
  dir: string
  name: string
  fd: number
}

/** A lock held through the real file system. */
export class OsLock {
  /** The `LOCK` directory. */
  readonly path: string
  /** What a takeover found, if the lock was stale when acquired. */
  readonly tookOverFrom: LockOwner | 'unreadable' | undefined
  private readonly ownerFile: string
  private readonly fd: number
  private released = false

  constructor(path: string, claim: Claim, tookOver: LockOwner | 'unreadable' | undefined) {
    this.path = path
    this.ownerFile = join(path, claim.name)
    this.fd = claim.fd
    this.tookOverFrom = tookOver
  }

  /**
   * Unlinks the owner file (the lock is free from that instant), closes the descriptor that
   * marked it as held by this process, and removes `LOCK/` if it is still empty (`rmdir` never
   * removes a newer owner's non-empty directory). Safe to call twice; never throws.
   */
  release(): void {
    if (this.released) return
    this.released = true
    ignoreErrors(() => unlinkSync(this.ownerFile))
    ignoreErrors(() => closeSync(this.fd))
    ignoreErrors(() => rmdirSync(this.path))
  }
}

/**
 * Takes the lock of store directory `storeDir` (its real path), or throws `ERR_LOCKED`; an OS
 * error (`EACCES`, `ENOSPC`) is thrown as it is. A refusal leaves the store's files as they were,
 * and no failure leaves the private directory behind.
 */
export function acquireOsLock(storeDir: string): OsLock {
  const lockDir = join(storeDir, LOCK_FILE)
  const me = currentOwner(newToken())
  let claim: Claim | undefined
  let tookOver: LockOwner | 'unreadable' | undefined
  try {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const seen = look(storeDir, lockDir, me)
      if (seen.kind === 'held') throw new AlexStorageError(ErrorCode.LOCKED, seen.message)
      if (seen.kind === 'changed') continue
      if (seen.kind === 'stale') {
        tookOver = seen.owner
        removeStale(seen.file, seen.legacy)
        continue
      }
      claim ??= createClaim(storeDir, me)
      if (!install(claim.dir, lockDir)) continue
      const lock = new OsLock(lockDir, claim, tookOver)
      claim = undefined // it is the lock now
      try {
        syncDirectory(storeDir) // the new LOCK entry survives a power cut (and names a dead owner)
      } catch (err) {
        lock.release()
        throw err
      }
      removeDeadClaims(storeDir, me)
      return lock
    }
    throw new AlexStorageError(
      ErrorCode.LOCKED,
      `store ${storeDir} is locked (its lock changed hands ${MAX_ROUNDS} times while we looked)`,
    )
  } finally {
    if (claim !== undefined) discardClaim(claim)
  }
}

/** Looks at `LOCK` once and says what it is. Reads only. */
function look(storeDir: string, lockDir: string, me: LockOwner): Sighting {
  let isFile: boolean
  try {
    const stat = lstatSync(lockDir)
    if (!stat.isFile() && !stat.isDirectory()) {
      return held(`store ${storeDir} is locked: its LOCK is neither a directory nor a file`)
    }
    isFile = stat.isFile()
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return FREE
    throw err
  }
  if (isFile) {
    // A legacy lock: the previous version's regular file named LOCK, holding the owner text.
    const read = readOwnerFile(lockDir)
    if (read === undefined) return CHANGED
    return judge(storeDir, read.owner, me, lockDir, true, read)
  }
  let names: string[]
  try {
    names = readdirSync(lockDir)
  } catch (err) {
    const code = codeOf(err)
    if (code === 'ENOENT' || code === 'ENOTDIR') return CHANGED
    throw err
  }
  if (names.length === 0) return FREE
  const name = names.find((n) => n.startsWith(OWNER_PREFIX))
  if (name === undefined) {
    return held(
      `store ${storeDir} is locked: its LOCK directory holds no owner file but is not empty ` +
        `(${names.join(', ')}); remove it if no writer is running`,
    )
  }
  const file = join(lockDir, name)
  const read = readOwnerFile(file)
  if (read === undefined) return CHANGED
  return judge(storeDir, read.owner, me, file, false, read)
}

/**
 * Whether `owner` (read from `file`, whose identity is `id`) holds the lock. Another host's owner
 * is held (its pid means nothing here). An owner naming this very process (pid and start time)
 * is held if any descriptor of this process has its file open, i.e. some thread or module copy
 * of @alex/storage holds it; otherwise it is a leftover (a copied store directory). Where
 * /proc/self/fd is missing, this process's own owner is always held.
 */
function judge(
  storeDir: string,
  owner: LockOwner | undefined,
  me: LockOwner,
  file: string,
  legacy: boolean,
  id: { dev: bigint; ino: bigint },
): Sighting {
  if (owner === undefined) return { kind: 'stale', owner: 'unreadable', file, legacy }
  if (owner.host !== me.host) {
    return held(`store ${storeDir} is locked by process ${owner.pid} on host ${owner.host}`)
  }
  if (owner.pid === me.pid && owner.start === me.start) {
    // A legacy file is never kept open by its writer: assume an older copy in this process.
    const open = legacy ? undefined : holdsOpenFile(id.dev, id.ino)
    if (open !== false) {
      const by = owner.thread === undefined ? '' : ` (by thread ${owner.thread})`
      return held(`store ${storeDir} is already open in this process${by}`)
    }
    return { kind: 'stale', owner, file, legacy }
  }
  if (isProcessAlive(owner.pid, owner.start)) {
    return held(`store ${storeDir} is locked by process ${owner.pid}`)
  }
  return { kind: 'stale', owner, file, legacy }
}

function held(message: string): Sighting {
  return { kind: 'held', message }
}

/** Reads and parses an owner file and its identity; `undefined` if it vanished meanwhile. */
function readOwnerFile(
  file: string,
): { owner: LockOwner | undefined; dev: bigint; ino: bigint } | undefined {
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch (err) {
    const code = codeOf(err)
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    throw err
  }
  try {
    const { dev, ino } = fstatSync(fd, { bigint: true })
    const bytes = Buffer.alloc(4096)
    let got = 0
    for (let n = 1; n > 0 && got < bytes.length; got += n) {
      n = readSync(fd, bytes, got, bytes.length - got, got)
    }
    return { owner: parseLock(bytes.toString('utf8', 0, got)), dev, ino }
  } catch (err) {
    if (codeOf(err) === 'EISDIR') return undefined // a legacy file replaced by a lock directory
    throw err
  } finally {
    closeSync(fd)
  }
}

/**
 * Claims a stale lock by unlinking its file: the owner file (token-specific, so this never
 * removes a newer owner) or a legacy `LOCK` file (an unlink never removes a `LOCK/` directory).
 * Losing the claim to another contender is not an error: the next look decides again.
 */
function removeStale(file: string, legacy: boolean): void {
  try {
    unlinkSync(file)
  } catch (err) {
    const code = codeOf(err)
    if (code === 'ENOENT') return
    if (legacy && (code === 'EISDIR' || code === 'EPERM') && isDirectory(file)) return
    throw err
  }
}

/** Makes `<store>/LOCK.<pid>.<token>.claim/owner-<token>`, complete and fsynced, kept open. */
function createClaim(storeDir: string, me: LockOwner): Claim {
  const dir = join(storeDir, claimDirName(me.pid, me.token!))
  const name = ownerFileName(me.token!)
  mkdirSync(dir)
  let fd: number | undefined
  try {
    fd = openSync(join(dir, name), 'wx', 0o644)
    const bytes = Buffer.from(formatLock(me), 'utf8')
    for (let done = 0; done < bytes.length; ) {
      done += writeSync(fd, bytes, done, bytes.length - done, done)
    }
    fsyncSync(fd)
    return { dir, name, fd }
  } catch (err) {
    if (fd !== undefined) discardClaim({ dir, name, fd })
    else ignoreErrors(() => rmdirSync(dir))
    throw err
  }
}

/** Renames the claim onto `LOCK`; false if `LOCK` is taken (a non-empty directory or a file). */
function install(claimDir: string, lockDir: string): boolean {
  try {
    renameSync(claimDir, lockDir)
    return true
  } catch (err) {
    const code = codeOf(err)
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') return false
    throw err
  }
}

/** Removes a claim that did not become the lock. Never throws. */
function discardClaim(claim: Claim): void {
  ignoreErrors(() => unlinkSync(join(claim.dir, claim.name)))
  ignoreErrors(() => closeSync(claim.fd))
  ignoreErrors(() => rmdirSync(claim.dir))
}

/**
 * Removes claim directories left by contenders that died between creating and renaming or
 * removing them (SIGKILL in that window). Only the lock's holder does it, only for a process
 * that is dead (by the claim's owner file, or by its name's pid alone) on this host. Best effort.
 */
function removeDeadClaims(storeDir: string, me: LockOwner): void {
  let names: string[]
  try {
    names = readdirSync(storeDir)
  } catch {
    return
  }
  for (const name of names) {
    const pid = claimDirPid(name)
    if (pid === undefined || pid === me.pid) continue
    const dir = join(storeDir, name)
    ignoreErrors(() => {
      const inside = readdirSync(dir)
      const ownerName = inside.find((n) => n.startsWith(OWNER_PREFIX))
      const owner =
        ownerName === undefined ? undefined : parseLock(readFileSync(join(dir, ownerName), 'utf8'))
      if (owner !== undefined && (owner.host !== me.host || owner.pid !== pid)) return
      if (isProcessAlive(pid, owner?.start ?? 0)) return
      for (const n of inside) unlinkSync(join(dir, n))
      rmdirSync(dir)
    })
  }
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

function isDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory()
  } catch {
    return false
  }
}

function codeOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code
}

function ignoreErrors(run: () => void): void {
  try {
    run()
  } catch {
    // Best effort; see the caller.
  }
}
