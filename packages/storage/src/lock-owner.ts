import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { threadId } from 'node:worker_threads'
import { LOCK_HEADER } from './format.js'
import { processStartTime } from './process-info.js'

/**
 * The lock's owner record (docs/storage-format.md, section 7): who holds a store's write lock,
 * as ASCII text, one `name=value` per line between a header line and `end`. The same text is the
 * whole content of the legacy `LOCK` file and of the `LOCK/owner-<token>` file of today's lock.
 */

/** Who holds a lock. */
export interface LockOwner {
  pid: number
  /** Process start time (clock ticks since boot), 0 where unknown. */
  start: number
  host: string
  /** Random hex token naming this acquisition (`owner-<token>`); absent in legacy locks. */
  token?: string
  /** `worker_threads.threadId` of the thread that took the lock (informational). */
  thread?: number
}

/** Name prefix of the owner file inside the `LOCK/` directory: `owner-<token>`. */
export const OWNER_PREFIX = 'owner-'
/** Suffix of a contender's private directory, `LOCK.<pid>.<token>.claim` (never `.tmp`). */
export const CLAIM_SUFFIX = '.claim'

/** A fresh random token: 16 lowercase hex digits. */
export function newToken(): string {
  return randomBytes(8).toString('hex')
}

/** The owner record of the calling thread, for a new acquisition named `token`. */
export function currentOwner(token: string): LockOwner {
  return {
    pid: process.pid,
    start: processStartTime(process.pid),
    host: hostname(),
    token,
    thread: threadId,
  }
}

/** The owner file's name for `token`. */
export function ownerFileName(token: string): string {
  return OWNER_PREFIX + token
}

/** The private directory a contender builds its owner file in before renaming it to `LOCK`. */
export function claimDirName(pid: number, token: string): string {
  return `LOCK.${pid}.${token}${CLAIM_SUFFIX}`
}

/** Parses a claim directory's name into its pid, or `undefined` if it is not one. */
export function claimDirPid(name: string): number | undefined {
  const m = /^LOCK\.(\d+)\.[0-9a-f]+\.claim$/.exec(name)
  if (m === null) return undefined
  const pid = Number(m[1])
  return Number.isSafeInteger(pid) ? pid : undefined
}

/** Formats the owner text of `owner` (token and thread lines only when present). */
export function formatLock(owner: LockOwner): string {
  let text = `${LOCK_HEADER}\npid=${owner.pid}\nstart=${owner.start}\nhost=${owner.host}\n`
  if (owner.token !== undefined) text += `token=${owner.token}\n`
  if (owner.thread !== undefined) text += `thread=${owner.thread}\n`
  return `${text}end\n`
}

/**
 * Parses owner text; `undefined` if it is not a complete record (e.g. a legacy `LOCK` file torn
 * by a crash, or garbage). Unknown `name=value` lines are ignored, so a reader of this version
 * accepts records with more fields, and the previous version's parser accepts ours.
 */
export function parseLock(text: string): LockOwner | undefined {
  const lines = text.split('\n')
  // The last line is "end": a record torn by a crash (a prefix of the text) is not a record.
  if (lines[0] !== LOCK_HEADER || !lines.includes('end')) return undefined
  const fields = new Map<string, string>()
  for (const line of lines.slice(1)) {
    const eq = line.indexOf('=')
    if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1))
  }
  const pid = Number(fields.get('pid'))
  const start = Number(fields.get('start'))
  const host = fields.get('host')
  if (!Number.isSafeInteger(pid) || !Number.isSafeInteger(start) || host === undefined) {
    return undefined
  }
  const owner: LockOwner = { pid, start, host }
  const token = fields.get('token')
  if (token !== undefined) owner.token = token
  const thread = Number(fields.get('thread'))
  if (fields.has('thread') && Number.isSafeInteger(thread)) owner.thread = thread
  return owner
}
