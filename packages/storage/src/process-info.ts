import { readdirSync, readFileSync, statSync } from 'node:fs'

/**
 * Facts about processes, for deciding whether a lock file's owner is still alive. On Linux the
 * process start time (field 22 of /proc/<pid>/stat, in clock ticks since boot) tells a live owner
 * from an unrelated process that was later given the same pid; elsewhere only the pid is checked.
 * Also whether this process has a given file open (/proc/self/fd), which tells a lock held by some
 * thread or module copy of this process from a leftover that names this process.
 */

/** What /proc says about a process, or `undefined` where /proc is unavailable. */
interface ProcStat {
  state: string
  startTime: number
}

function procStat(pid: number): ProcStat | undefined | null {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1')
  } catch (err) {
    // ENOENT: no such process (when /proc exists at all).
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && hasProc()) return null
    return undefined
  }
  // "pid (comm) state ppid ...": comm may contain spaces and parentheses, so split after the
  // last ')'. Field 3 (state) is the first after it; field 22 (starttime) the 20th.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  const startTime = Number(fields[19])
  if (fields[0] === undefined || !Number.isFinite(startTime)) return undefined
  return { state: fields[0], startTime }
}

let procAvailable: boolean | undefined
function hasProc(): boolean {
  if (procAvailable === undefined) {
    try {
      readFileSync('/proc/self/stat')
      procAvailable = true
    } catch {
      procAvailable = false
    }
  }
  return procAvailable
}

/** Start time of `pid` (clock ticks since boot), or 0 where the platform does not say. */
export function processStartTime(pid: number): number {
  const stat = procStat(pid)
  return stat ? stat.startTime : 0
}

/**
 * True if process `pid` exists, is not a zombie, and (when both are known) started at
 * `startTime`: i.e. the process that wrote a lock naming (pid, startTime) is still running.
 */
export function isProcessAlive(pid: number, startTime: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  const stat = procStat(pid)
  if (stat === null) return false
  if (stat === undefined) return true
  if (stat.state === 'Z' || stat.state === 'X') return false
  return startTime === 0 || stat.startTime === startTime
}

/**
 * Whether some file descriptor of this process (any thread, any module copy) refers to the file
 * with device `dev` and inode `ino`: `true` or `false` from /proc/self/fd on Linux, `undefined`
 * where /proc/self/fd cannot be read (the caller must then assume the file is held).
 */
export function holdsOpenFile(dev: bigint, ino: bigint): boolean | undefined {
  let fds: string[]
  try {
    fds = readdirSync('/proc/self/fd')
  } catch {
    return undefined
  }
  for (const fd of fds) {
    try {
      // stat follows the fd's magic link to the open file itself, even an unlinked one.
      const stat = statSync(`/proc/self/fd/${fd}`, { bigint: true })
      if (stat.ino === ino && stat.dev === dev) return true
    } catch {
      // Closed meanwhile (the listing's own descriptor, or another thread's file): not ours.
    }
  }
  return false
}
