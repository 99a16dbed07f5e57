import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import {
  cpSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { AlexStorage } from '../src/index.js'
import { formatLock } from '../src/lock-owner.js'
import { hashDir, tempDir } from './helpers.js'

/**
 * The single-writer lock across processes, threads and module copies (docs/storage-format.md,
 * section 7): exactly one of many racing writers opens, on a fresh directory and on a stale lock;
 * a second writer in this process (a worker thread, a CJS copy of the package, a symlinked path)
 * gets ERR_LOCKED; readers open beside the writer; the lock a SIGKILLed writer leaves behind is
 * taken over; and every refused open leaves the directory byte-identical.
 */

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const SRC_INDEX = fileURLToPath(new URL('../src/index.ts', import.meta.url))
let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir('alex-lock-'))
})
afterEach(() => cleanup())

function start(mode: 'rw' | 'ro'): Promise<{ child: ChildProcess; line: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture('hold-open.ts'), dir, mode], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (chunk: string) => {
      out += chunk
      const nl = out.indexOf('\n')
      if (nl >= 0) resolve({ child, line: out.slice(0, nl) })
    })
    child.on('error', reject)
    child.on('exit', () => resolve({ child, line: out.trim() }))
  })
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((r) => child.on('exit', r))
  child.kill('SIGKILL')
  await exited
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await new Promise((r) => child.on('exit', r))
  return child.pid!
}

describe('lock across processes', () => {
  it('refuses a second writer, allows readers, and takes over after the writer is killed', async () => {
    const writer = await start('rw')
    try {
      expect(writer.line).toBe('R 7')
      const before = hashDir(dir)
      await expect(AlexStorage.open(dir)).rejects.toMatchObject({ code: 'ERR_LOCKED' })
      const other = await start('rw')
      expect(other.line).toBe('E ERR_LOCKED')
      await kill(other.child)
      expect(hashDir(dir)).toBe(before) // the refused opens changed nothing
      const reader = await AlexStorage.open(dir, { readOnly: true })
      expect(reader.get(7)).toEqual(new Uint8Array([7])) // in the writer's log, not checkpointed
      await reader.close()
      const childReader = await start('ro')
      expect(childReader.line).toBe('R 7')
      await kill(childReader.child)
    } finally {
      await kill(writer.child)
    }
    // The killed writer's lock is stale: taken over, and its acknowledged write recovered.
    const db = await AlexStorage.open(dir)
    expect(db.recovery.lockTakenOver).toBe(true)
    expect(db.get(7)).toEqual(new Uint8Array([7]))
    await db.close()
    expect(readdirSync(dir)).not.toContain('LOCK') // released
  })
})

/** A contender process (test/fixtures/lock-racer.ts), driven line by line. */
class Racer {
  private readonly child: ChildProcess
  private readonly lines: string[] = []
  private wake: (() => void) | undefined
  private buffer = ''

  constructor() {
    this.child = spawn(process.execPath, ['--import', 'tsx', fixture('lock-racer.ts')], {
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    this.child.stdout!.setEncoding('utf8')
    this.child.stdout!.on('data', (chunk: string) => {
      this.buffer += chunk
      for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
        this.lines.push(this.buffer.slice(0, nl))
        this.buffer = this.buffer.slice(nl + 1)
      }
      this.wake?.()
    })
    this.child.on('exit', () => this.wake?.())
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`)
  }

  /** The next line it prints (rejects if it exits first). */
  async next(): Promise<string> {
    while (this.lines.length === 0) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`racer exited (${this.child.exitCode ?? this.child.signalCode})`)
      }
      await new Promise<void>((r) => {
        this.wake = r
      })
    }
    return this.lines.shift()!
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise((r) => this.child.on('exit', r))
    this.child.kill('SIGKILL')
    await exited
  }
}

/**
 * One round: every racer is told to open `store`, and once all are waiting for the go-file it is
 * created (in a directory of its own, so that nothing else wakes the racers' watchers); returns
 * what each printed. Then every racer closes what it opened.
 */
async function race(racers: Racer[], store: string, round: string): Promise<string[]> {
  const go = join(dir, round, 'go')
  mkdirSync(join(dir, round))
  for (const r of racers) r.send(`open ${store} ${go}`)
  for (const r of racers) expect(await r.next()).toBe('ready')
  writeFileSync(go, '')
  const results = await Promise.all(racers.map((r) => r.next()))
  for (const r of racers) r.send('close')
  for (const r of racers) expect(await r.next()).toBe('closed')
  return results
}

describe('racing writers', () => {
  const N = 6
  const ROUNDS = 50
  let racers: Racer[] = []
  beforeAll(() => {
    racers = Array.from({ length: N }, () => new Racer())
  })
  afterAll(async () => {
    await Promise.all(racers.map((r) => r.stop()))
  })

  it(`${N} processes on a fresh directory: exactly one writer opens, ${ROUNDS} rounds`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const store = join(dir, `fresh-${round}`, 'db') // created by the racers' opens
      const results = await race(racers, store, `go-${round}`)
      expect(results.filter((r) => r.startsWith('R '))).toEqual(['R 0']) // one writer, no takeover
      expect(results.filter((r) => r === 'E ERR_LOCKED')).toHaveLength(N - 1)
      expect(readdirSync(join(dir, `fresh-${round}`, 'db'))).not.toContain('LOCK')
    }
  })

  it(`${N} processes on a stale lock (new and legacy): exactly one takes it over, ${ROUNDS} rounds`, async () => {
    const dead = await deadPid()
    for (let round = 0; round < ROUNDS; round++) {
      const store = join(dir, `stale-${round}`)
      mkdirSync(store)
      const owner = { pid: dead, start: 0, host: hostname() }
      if (round % 2 === 0) {
        writeFileSync(join(store, 'LOCK'), formatLock(owner)) // the previous version's lock file
      } else {
        const token = `${round}`.padStart(16, '0')
        mkdirSync(join(store, 'LOCK'))
        writeFileSync(join(store, 'LOCK', `owner-${token}`), formatLock({ ...owner, token }))
      }
      const results = await race(racers, store, `go-stale-${round}`)
      // The winner is not always the contender that claimed the stale owner (it may find LOCK/
      // already emptied), so its lockTakenOver may be false; exactly one opens either way.
      expect(results.filter((r) => r.startsWith('R '))).toHaveLength(1)
      expect(results.filter((r) => r === 'E ERR_LOCKED')).toHaveLength(N - 1)
      expect(readdirSync(store).filter((n) => n.startsWith('LOCK'))).toEqual([])
    }
  })
})

describe('a second writer in this process', () => {
  let cjsDir: { dir: string; cleanup: () => void }
  let CjsAlexStorage: typeof AlexStorage
  beforeAll(() => {
    // A CommonJS build of the package, loaded next to the ESM source this test imports.
    cjsDir = tempDir('alex-lock-cjs-')
    const built = spawnSync(
      process.execPath,
      ['--import', 'tsx', fixture('lock-cjs-copy.ts'), cjsDir.dir],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    )
    expect(built.status).toBe(0)
    const required = createRequire(import.meta.url)(join(cjsDir.dir, 'index.cjs'))
    CjsAlexStorage = required.AlexStorage
  })
  afterAll(() => cjsDir.cleanup())

  function openInWorker(path: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(fixture('lock-worker.mjs'), {
        workerData: { dir: path, src: SRC_INDEX },
      })
      worker.once('message', (message: string) => {
        resolve(message)
        void worker.terminate()
      })
      worker.once('error', reject)
    })
  }

  it('a worker thread, a CJS copy of the package and a symlinked path get ERR_LOCKED, changing nothing', async () => {
    const links = tempDir('alex-lock-link-')
    const link = join(links.dir, 'db')
    symlinkSync(dir, link)
    try {
      const db = await AlexStorage.open(dir)
      try {
        await db.put(1, new Uint8Array([1]))
        const before = hashDir(dir)
        const beforeData = hashDir(dir, { skip: ['readers'] })
        expect(await openInWorker(dir)).toBe('E ERR_LOCKED')
        expect(await openInWorker(link)).toBe('E ERR_LOCKED')
        expect(CjsAlexStorage).not.toBe(AlexStorage)
        await expect(CjsAlexStorage.open(dir)).rejects.toMatchObject({ code: 'ERR_LOCKED' })
        await expect(CjsAlexStorage.open(link)).rejects.toMatchObject({ code: 'ERR_LOCKED' })
        await expect(AlexStorage.open(link)).rejects.toMatchObject({ code: 'ERR_LOCKED' })
        await expect(AlexStorage.open(dir)).rejects.toMatchObject({
          code: 'ERR_LOCKED',
          message: expect.stringMatching(/already open in this process/),
        })
        expect(hashDir(dir)).toBe(before)
        // Readers still open beside the writer, through any copy.
        const reader = await AlexStorage.open(link, { readOnly: true })
        expect(reader.get(1)).toEqual(new Uint8Array([1]))
        await reader.close()
        const cjsReader = await CjsAlexStorage.open(dir, { readOnly: true })
        expect(cjsReader.get(1)).toEqual(new Uint8Array([1]))
        await cjsReader.close()
        // Following readers register under readers/ (by design); nothing else changed.
        expect(hashDir(dir, { skip: ['readers'] })).toBe(beforeData)
      } finally {
        await db.close()
      }
      // Released: any copy, any spelling opens it now, and reports the real path.
      const cjs = await CjsAlexStorage.open(link)
      expect(cjs.dir).toBe(realpathSync(dir))
      expect(cjs.recovery.lockTakenOver).toBe(false)
      await cjs.close()
      expect(await openInWorker(link)).toBe('opened')
    } finally {
      links.cleanup()
    }
  })

  it('a copy of a live store directory is a leftover, not held', async () => {
    const db = await AlexStorage.open(dir)
    await db.put(1, new Uint8Array([1]))
    const { dir: copy, cleanup: removeCopy } = tempDir('alex-lock-copy-')
    try {
      cpSync(dir, copy, { recursive: true })
      expect(statSync(join(copy, 'LOCK')).isDirectory()).toBe(true)
      if (process.platform === 'linux') {
        const again = await AlexStorage.open(copy)
        expect(again.recovery.lockTakenOver).toBe(true)
        expect(again.get(1)).toEqual(new Uint8Array([1]))
        await again.close()
      }
    } finally {
      removeCopy()
      await db.close()
    }
  })
})
