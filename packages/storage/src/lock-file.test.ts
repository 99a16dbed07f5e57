import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { NodeFileSystem } from '@alex/wal'
import { FaultInjectionFileSystem } from '@alex/wal/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { formatLock, parseLock, StoreLock } from './lock-file.js'
import { isProcessAlive, processStartTime } from './process-info.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'alex-lock-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await new Promise((r) => child.on('exit', r))
  return child.pid!
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
})

describe('StoreLock', () => {
  const fs = new NodeFileSystem()

  it('is exclusive within a process and released by release()', () => {
    const lock = StoreLock.acquire(fs, dir)
    const text = readFileSync(join(dir, 'LOCK'), 'utf8')
    expect(parseLock(text)).toMatchObject({ pid: process.pid, host: hostname() })
    expect(() => StoreLock.acquire(fs, dir)).toThrow(
      expect.objectContaining({ code: 'ERR_LOCKED' }),
    )
    lock.release()
    lock.release()
    expect(existsSync(join(dir, 'LOCK'))).toBe(false)
    StoreLock.acquire(fs, dir).release()
  })

  it('refuses a lock held by another live process', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], {
      stdio: 'ignore',
    })
    try {
      const owner = { pid: child.pid!, start: processStartTime(child.pid!), host: hostname() }
      writeFileSync(join(dir, 'LOCK'), formatLock(owner))
      expect(() => StoreLock.acquire(fs, dir)).toThrow(
        expect.objectContaining({ code: 'ERR_LOCKED', message: expect.stringMatching(/process/) }),
      )
    } finally {
      child.kill('SIGKILL')
      await new Promise((r) => child.on('exit', r))
    }
  })

  it('takes over a stale lock left by a killed process', async () => {
    const pid = await deadPid()
    writeFileSync(join(dir, 'LOCK'), formatLock({ pid, start: 0, host: hostname() }))
    const lock = StoreLock.acquire(fs, dir)
    expect(lock.tookOverFrom).toMatchObject({ pid })
    expect(parseLock(readFileSync(join(dir, 'LOCK'), 'utf8'))?.pid).toBe(process.pid)
    lock.release()
  })

  it('takes over a lock whose pid was reused by another process', async () => {
    if (process.platform !== 'linux') return
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], {
      stdio: 'ignore',
    })
    try {
      const start = processStartTime(child.pid!) - 1
      writeFileSync(join(dir, 'LOCK'), formatLock({ pid: child.pid!, start, host: hostname() }))
      StoreLock.acquire(fs, dir).release()
    } finally {
      child.kill('SIGKILL')
      await new Promise((r) => child.on('exit', r))
    }
  })

  it('takes over a torn (unreadable) lock and one left by this process', () => {
    writeFileSync(join(dir, 'LOCK'), 'alexstorage-lo')
    const a = StoreLock.acquire(fs, dir)
    expect(a.tookOverFrom).toBe('unreadable')
    a.release()
    writeFileSync(
      join(dir, 'LOCK'),
      formatLock({ pid: process.pid, start: processStartTime(process.pid), host: hostname() }),
    )
    StoreLock.acquire(fs, dir).release()
  })

  it('refuses a lock from another host', () => {
    writeFileSync(join(dir, 'LOCK'), formatLock({ pid: 1, start: 0, host: `${hostname()}-x` }))
    expect(() => StoreLock.acquire(fs, dir)).toThrow(/host/)
  })

  it('leaves no lock file behind when writing or syncing it fails (full disk)', () => {
    for (const op of ['write', 'sync'] as const) {
      const faulty = new FaultInjectionFileSystem()
      faulty.mkdir('/db')
      faulty.injectFault({ op, nth: 1, code: 'ENOSPC', path: 'LOCK' })
      expect(() => StoreLock.acquire(faulty, '/db')).toThrow(
        expect.objectContaining({ code: 'ENOSPC' }),
      )
      expect(faulty.listFiles()).toEqual([])
      expect(faulty.openHandles).toBe(0)
      StoreLock.acquire(faulty, '/db').release() // and the lock is free in this process
    }
  })

  it('parses only complete lock texts', () => {
    expect(parseLock('')).toBeUndefined()
    expect(parseLock('alexstorage-lock 1\npid=1\n')).toBeUndefined()
    expect(parseLock('alexstorage-lock 1\npid=x\nstart=0\nhost=h\nend\n')).toBeUndefined()
    const full = formatLock({ pid: 5, start: 6, host: 'host' })
    for (let cut = 0; cut < full.indexOf('end'); cut++) {
      expect(parseLock(full.slice(0, cut))).toBeUndefined() // every torn prefix
    }
    expect(parseLock(formatLock({ pid: 5, start: 6, host: 'h' }))).toEqual({
      pid: 5,
      start: 6,
      host: 'h',
    })
  })
})
