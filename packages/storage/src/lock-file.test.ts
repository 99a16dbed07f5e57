import { spawn } from 'node:child_process'
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { hashDir } from '@alex/test-support'
import { NodeFileSystem } from '@alex/wal'
import { FaultInjectionFileSystem } from '@alex/wal/testing'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { acquireLock, type StoreLock } from './lock-file.js'
import { formatLock, type LockOwner, parseLock } from './lock-owner.js'
import { holdsOpenFile, isProcessAlive, processStartTime } from './process-info.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'alex-lock-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const fs = new NodeFileSystem()
const LOCKED = expect.objectContaining({ code: 'ERR_LOCKED' })

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await new Promise((r) => child.on('exit', r))
  return child.pid!
}

/** Runs `body` with a live child process (a sleeper) and kills it afterwards. */
async function withLiveProcess(body: (pid: number) => void | Promise<void>): Promise<void> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' })
  try {
    await body(child.pid!)
  } finally {
    const exited = new Promise((r) => child.on('exit', r))
    child.kill('SIGKILL')
    await exited
  }
}

const me = (): LockOwner => ({
  pid: process.pid,
  start: processStartTime(process.pid),
  host: hostname(),
})

/** Writes a new-format lock naming `owner`: `LOCK/owner-<token>`. */
function writeLockDir(owner: LockOwner, token = 'feedfacecafebeef'): string {
  mkdirSync(join(dir, 'LOCK'))
  const file = join(dir, 'LOCK', `owner-${token}`)
  writeFileSync(file, formatLock({ ...owner, token }))
  return file
}

/** The owner files in `LOCK/`, parsed. */
function owners(): (LockOwner | undefined)[] {
  return readdirSync(join(dir, 'LOCK')).map((n) =>
    parseLock(readFileSync(join(dir, 'LOCK', n), 'utf8')),
  )
}

describe('process info', () => {
  it('knows this process is alive and a finished one is not', async () => {
    const start = processStartTime(process.pid)
    expect(isProcessAlive(process.pid, start)).toBe(true)
    expect(isProcessAlive(await deadPid(), 0)).toBe(false)
    expect(isProcessAlive(-1, 0)).toBe(false)
    if (process.platform === 'linux') {
      expect(start).toBeGreaterThan(0)
      // Same pid, different start time: a reused pid, so the lock's owner is gone.
      expect(isProcessAlive(process.pid, start + 1)).toBe(false)
    }
  })

  it('tells a file this process has open from one it has not (Linux)', () => {
    if (process.platform !== 'linux') return
    const file = join(dir, 'f')
    writeFileSync(file, 'x')
    const { dev, ino } = statSync(file, { bigint: true })
    expect(holdsOpenFile(dev, ino)).toBe(false)
    const fd = openSync(file, 'r')
    try {
      expect(holdsOpenFile(dev, ino)).toBe(true)
    } finally {
      closeSync(fd)
    }
    expect(holdsOpenFile(dev, ino)).toBe(false)
  })
})

describe('owner record', () => {
  it('round-trips, and parses only complete texts', () => {
    const full: LockOwner = { pid: 5, start: 6, host: 'h', token: '00ff00ff00ff00ff', thread: 3 }
    expect(parseLock(formatLock(full))).toEqual(full)
    expect(parseLock(formatLock({ pid: 5, start: 6, host: 'h' }))).toEqual({
      pid: 5,
      start: 6,
      host: 'h',
    })
    expect(parseLock('')).toBeUndefined()
    expect(parseLock('alexstorage-lock 1\npid=1\n')).toBeUndefined()
    expect(parseLock('alexstorage-lock 1\npid=x\nstart=0\nhost=h\nend\n')).toBeUndefined()
    const text = formatLock(full)
    for (let cut = 0; cut < text.indexOf('end'); cut++) {
      expect(parseLock(text.slice(0, cut))).toBeUndefined() // every torn prefix
    }
  })

  it('matches the example of docs/storage-format.md, section 7', () => {
    const doc = readFileSync(
      fileURLToPath(new URL('../../../docs/storage-format.md', import.meta.url)),
      'utf8',
    )
    const section = doc.slice(doc.indexOf('## 7.'), doc.indexOf('## 8.'))
    const example = /```\n(alexstorage-lock 1\n[\s\S]*?end\n)```/.exec(section)?.[1]
    expect(example).toBeDefined()
    const owner = parseLock(example!)
    expect(owner).toEqual({
      pid: 12345,
      start: 987654,
      host: 'machine-name',
      token: '3f9c0a7e5b1d2c48',
      thread: 0,
    })
    expect(formatLock(owner!)).toBe(example)
  })
})

describe('the lock on the real file system', () => {
  it('is a LOCK directory holding one owner file, exclusive, released by release()', () => {
    const lock = acquireLock(fs, dir)
    expect(lock.tookOverFrom).toBeUndefined()
    const names = readdirSync(join(dir, 'LOCK'))
    expect(names).toHaveLength(1)
    expect(names[0]).toMatch(/^owner-[0-9a-f]{16}$/)
    expect(owners()[0]).toMatchObject({ ...me(), token: names[0]!.slice(6) })
    expect(readdirSync(dir)).toEqual(['LOCK']) // no private claim directory left
    expect(() => acquireLock(fs, dir)).toThrow(LOCKED)
    expect(() => acquireLock(fs, dir)).toThrow(/already open in this process/)
    lock.release()
    lock.release()
    expect(existsSync(join(dir, 'LOCK'))).toBe(false)
    acquireLock(fs, dir).release()
  })

  it('is exclusive across module copies in this process (a fresh import of the lock code)', async () => {
    const lock = acquireLock(fs, dir)
    try {
      vi.resetModules()
      const specifier = './lock-file.js?copy' // a second instance of the module and its imports
      const copy = (await import(/* @vite-ignore */ specifier)) as typeof import('./lock-file.js')
      expect(copy.acquireLock).not.toBe(acquireLock)
      expect(() => copy.acquireLock(fs, dir)).toThrow(LOCKED)
    } finally {
      lock.release()
    }
  })

  it('treats an empty LOCK directory as free', () => {
    mkdirSync(join(dir, 'LOCK'))
    const lock = acquireLock(fs, dir)
    expect(lock.tookOverFrom).toBeUndefined()
    expect(owners()).toHaveLength(1)
    lock.release()
  })

  it('refuses a lock held by another live process, changing nothing', async () => {
    await withLiveProcess((pid) => {
      writeLockDir({ pid, start: processStartTime(pid), host: hostname() })
      const before = hashDir(dir)
      expect(() => acquireLock(fs, dir)).toThrow(
        expect.objectContaining({
          code: 'ERR_LOCKED',
          message: `store ${dir} is locked by process ${pid}`,
        }),
      )
      expect(hashDir(dir)).toBe(before)
      expect(readdirSync(dir)).toEqual(['LOCK'])
    })
  })

  it('takes over a stale lock left by a dead process', async () => {
    const pid = await deadPid()
    const old = writeLockDir({ pid, start: 0, host: hostname() })
    const lock = acquireLock(fs, dir)
    expect(lock.tookOverFrom).toMatchObject({ pid })
    expect(existsSync(old)).toBe(false)
    expect(owners()).toEqual([expect.objectContaining(me())])
    lock.release()
  })

  it('takes over a lock whose pid was reused by another process', async () => {
    if (process.platform !== 'linux') return
    await withLiveProcess((pid) => {
      writeLockDir({ pid, start: processStartTime(pid) - 1, host: hostname() })
      const lock = acquireLock(fs, dir)
      expect(lock.tookOverFrom).toMatchObject({ pid })
      lock.release()
    })
  })

  it('takes over an unreadable owner file', () => {
    mkdirSync(join(dir, 'LOCK'))
    writeFileSync(join(dir, 'LOCK', 'owner-0123456789abcdef'), 'alexstorage-lo')
    const lock = acquireLock(fs, dir)
    expect(lock.tookOverFrom).toBe('unreadable')
    expect(owners()).toEqual([expect.objectContaining(me())])
    lock.release()
  })

  it('takes over a copy of a live lock naming this process (no descriptor holds it)', () => {
    if (process.platform !== 'linux') return // elsewhere this process's own owner is always held
    const live = acquireLock(fs, dir)
    const { dir: copy, cleanup } = copyOf(dir)
    try {
      const lock = acquireLock(fs, copy)
      expect(lock.tookOverFrom).toMatchObject(me())
      lock.release()
    } finally {
      cleanup()
      live.release()
    }
  })

  it('refuses another host’s lock, new or legacy', () => {
    writeLockDir({ pid: 1, start: 0, host: `${hostname()}-x` })
    expect(() => acquireLock(fs, dir)).toThrow(/on host/)
    rmSync(join(dir, 'LOCK'), { recursive: true })
    writeFileSync(join(dir, 'LOCK'), formatLock({ pid: 1, start: 0, host: `${hostname()}-x` }))
    expect(() => acquireLock(fs, dir)).toThrow(/on host/)
  })

  it('refuses a LOCK directory holding something other than an owner file', () => {
    mkdirSync(join(dir, 'LOCK'))
    writeFileSync(join(dir, 'LOCK', 'stray'), '')
    const before = hashDir(dir)
    expect(() => acquireLock(fs, dir)).toThrow(/holds no owner file/)
    expect(hashDir(dir)).toBe(before)
  })

  it('legacy LOCK file: refused while its owner lives, taken over when stale or torn', async () => {
    await withLiveProcess((pid) => {
      writeFileSync(
        join(dir, 'LOCK'),
        formatLock({ pid, start: processStartTime(pid), host: hostname() }),
      )
      const before = hashDir(dir)
      expect(() => acquireLock(fs, dir)).toThrow(LOCKED)
      expect(hashDir(dir)).toBe(before)
    })
    const pid = await deadPid()
    writeFileSync(join(dir, 'LOCK'), formatLock({ pid, start: 0, host: hostname() }))
    let lock = acquireLock(fs, dir)
    expect(lock.tookOverFrom).toMatchObject({ pid })
    expect(statSync(join(dir, 'LOCK')).isDirectory()).toBe(true)
    lock.release()
    writeFileSync(join(dir, 'LOCK'), 'alexstorage-lo')
    lock = acquireLock(fs, dir)
    expect(lock.tookOverFrom).toBe('unreadable')
    lock.release()
  })

  it('legacy LOCK file naming this process: held (an older copy of the package here)', () => {
    writeFileSync(join(dir, 'LOCK'), formatLock(me()))
    expect(() => acquireLock(fs, dir)).toThrow(/already open in this process/)
  })

  it('removes claim directories of dead contenders, keeps live ones', async () => {
    const pid = await deadPid()
    const dead = join(dir, `LOCK.${pid}.00000000000000aa.claim`)
    mkdirSync(dead)
    writeFileSync(
      join(dead, 'owner-00000000000000aa'),
      formatLock({ pid, start: 0, host: hostname() }),
    )
    const empty = join(dir, `LOCK.${pid}.00000000000000bb.claim`) // died before writing its file
    mkdirSync(empty)
    const mine = join(dir, `LOCK.${process.pid}.00000000000000cc.claim`) // a thread mid-acquire
    mkdirSync(mine)
    const lock = acquireLock(fs, dir)
    expect(readdirSync(dir).sort()).toEqual(['LOCK', `LOCK.${process.pid}.00000000000000cc.claim`])
    lock.release()
  })

  it('leaves no claim directory when creating it fails (read-only directory)', () => {
    if (process.getuid?.() === 0) return // root writes anyway
    const ro = join(dir, 'ro')
    mkdirSync(ro, { mode: 0o555 })
    expect(() => acquireLock(fs, ro)).toThrow(expect.objectContaining({ code: 'EACCES' }))
    expect(readdirSync(ro)).toEqual([])
  })
})

describe('the simulated lock (an injected file system)', () => {
  it('is exclusive per file system and takes over a leftover naming this process', async () => {
    const faulty = new FaultInjectionFileSystem()
    faulty.mkdir('/db')
    const first: StoreLock = acquireLock(faulty, '/db')
    expect(first.path).toBe('/db/LOCK')
    expect(() => acquireLock(faulty, '/db')).toThrow(LOCKED)
    first.release()
    acquireLock(faulty, '/db') // held when the power goes
    await faulty.syncDir('/db')
    // The power-cut image of this process's files: its LOCK names us, but nothing holds it.
    const image = faulty.powerCut({ mode: 'drop' })
    const again = acquireLock(image, '/db')
    expect(again.tookOverFrom).toMatchObject({ pid: process.pid })
    again.release()
  })

  it('leaves no lock file behind when writing or syncing it fails (full disk)', () => {
    for (const op of ['write', 'sync'] as const) {
      const faulty = new FaultInjectionFileSystem()
      faulty.mkdir('/db')
      faulty.injectFault({ op, nth: 1, code: 'ENOSPC', path: 'LOCK' })
      expect(() => acquireLock(faulty, '/db')).toThrow(expect.objectContaining({ code: 'ENOSPC' }))
      expect(faulty.listFiles()).toEqual([])
      expect(faulty.openHandles).toBe(0)
      acquireLock(faulty, '/db').release() // and the lock is free in this process
    }
  })
})

function copyOf(src: string): { dir: string; cleanup: () => void } {
  const copy = mkdtempSync(join(tmpdir(), 'alex-lock-copy-'))
  cpSync(src, copy, { recursive: true })
  return { dir: copy, cleanup: () => rmSync(copy, { recursive: true, force: true }) }
}
