import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type FileHandle, type FileSystem, nodeFileSystem, type OpenFlags } from '@alex/wal'
import { FaultInjectionFileSystem, type FaultSpec, type FsOpName } from '@alex/wal/testing'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { AlexStorage, type AlexStorageOptions } from '../src/index.js'
import { tempDir, valueFor } from './helpers.js'

/**
 * A full disk (ENOSPC from some operation on) and a failing one (EIO at one operation) during a
 * put, a checkpoint, a compaction, a close and an open that recovers, swept over which file operation fails first. In
 * every case: the API rejects only with AlexStorageErrors carrying a code (ERR_STORE_FAILED, the
 * OS error as cause), a failure fails the store, `close()` still closes every file and releases
 * the lock, and once space is freed a reopen in the same process recovers every acknowledged
 * write (and the power-cut image of the failed state does too).
 */

const DIR = '/db'
const OPTS: AlexStorageOptions = {
  sync: 'always',
  segmentBytes: 4096,
  autoCompaction: false,
  checkpointRecords: 1_000_000,
}

type Phase = 'put' | 'checkpoint' | 'compact' | 'close'
type Model = Map<number, Uint8Array>

/**
 * Writes that failed, per key: a failed write may or may not survive, so after a reopen each of
 * these keys holds its model value or one of these (`undefined`: deleted).
 */
class Maybe extends Map<number, (Uint8Array | undefined)[]> {
  add(key: number, value: Uint8Array | undefined): void {
    const list = this.get(key)
    if (list === undefined) this.set(key, [value])
    else list.push(value)
  }
}

const FAULT_OPS: Partial<Record<FsOpName, FaultSpec['op']>> = {
  create: 'create',
  write: 'write',
  truncate: 'truncate',
  sync: 'sync',
  rename: 'rename',
  unlink: 'unlink',
  syncDir: 'syncDir',
}

/** Operations a full disk refuses (an unlink or a rename frees or needs no space). */
const FULL_DISK_OPS = new Set<FsOpName>(['create', 'write', 'sync'])

/**
 * Arms `fs` so that mutating operation number `from` (counted from now) fails with `code`, and,
 * for a full disk (`persistent`), every later write, file creation and fsync too.
 */
function arm(fs: FaultInjectionFileSystem, from: number, code: string, persistent: boolean): void {
  const base = fs.mutatingOps
  fs.onOp = (ev) => {
    if (ev.index === 0) return
    const n = ev.index - base
    const hit = persistent ? n >= from && FULL_DISK_OPS.has(ev.op) : n === from
    const op = FAULT_OPS[ev.op]
    // Taken by this very operation: the fault check follows the hook in every operation.
    if (hit && op !== undefined) fs.injectFault({ op, nth: 1, code, path: ev.path })
  }
}

function disarm(fs: FaultInjectionFileSystem): void {
  fs.onOp = undefined
  fs.clearFaults()
}

/** Every `code` along the error's `cause` chain. */
function causeCodes(err: unknown): unknown[] {
  const codes: unknown[] = []
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as never) {
    codes.push(e.code)
  }
  return codes
}

/** What an API call that failed for `code` must reject with. */
function expectStoreFailed(err: unknown, code: string): void {
  expect(err).toMatchObject({ name: 'AlexStorageError', code: 'ERR_STORE_FAILED' })
  expect(causeCodes(err)).toContain(code)
}

async function seed(fs: FileSystem, model: Model): Promise<AlexStorage> {
  const db = await AlexStorage.open(DIR, { ...OPTS, fs })
  // Overwrites leave dead records for the compaction; 60 x 150 bytes span a few segments.
  // Issued together (one group commit), applied in issue order.
  const writes: Promise<void>[] = []
  for (let i = 0; i < 60; i++) {
    const key = i % 20
    const value = valueFor(key, i, 150)
    writes.push(db.put(key, value))
    model.set(key, value)
  }
  await Promise.all(writes)
  await db.checkpoint()
  for (let i = 60; i < 70; i++) {
    writes.push(db.delete(i % 20))
    model.delete(i % 20)
  }
  await Promise.all(writes)
  return db
}

/** Runs `phase` against `db`, recording acknowledged writes in `model`; returns the errors. */
async function runPhase(db: AlexStorage, phase: Phase, model: Model, maybe: Maybe) {
  const errors: unknown[] = []
  const attempt = async (p: () => Promise<void>) => {
    try {
      await p()
      return true
    } catch (err) {
      errors.push(err)
      return false
    }
  }
  if (phase === 'put') {
    // Three writes at a time (a group commit each), one of every ten a batch.
    for (let i = 0; i < 30; i += 3) {
      const issued: [Promise<boolean>, [number, Uint8Array | undefined][]][] = []
      for (let j = i; j < i + 3; j++) {
        const key = 100 + (j % 15)
        const value = valueFor(key, j, 200)
        if (j % 10 === 9) {
          const ops = [
            { type: 'put' as const, key, value },
            { type: 'delete' as const, key: 1 },
          ]
          issued.push([
            attempt(() => db.batch(ops)),
            [
              [key, value],
              [1, undefined],
            ],
          ])
        } else issued.push([attempt(() => db.put(key, value)), [[key, value]]])
      }
      for (const [result, writes] of issued) {
        const acked = await result
        for (const [key, value] of writes) {
          if (!acked) maybe.add(key, value)
          else if (value === undefined) model.delete(key)
          else model.set(key, value)
        }
      }
    }
  } else if (phase === 'checkpoint') await attempt(() => db.checkpoint())
  else if (phase === 'compact') await attempt(() => db.compact())
  return errors
}

/** The store's content equals the model, but for the keys of failed writes. */
function expectContent(db: AlexStorage, model: Model, maybe: Maybe): void {
  const seen = new Set<number>()
  for (const [key, value] of db.entries()) {
    seen.add(key)
    if (equal(value, model.get(key))) continue
    const options = maybe.get(key) ?? []
    expect(
      options.some((v) => equal(value, v)),
      `key ${key}: neither its acknowledged value nor a failed write`,
    ).toBe(true)
  }
  for (const key of model.keys()) {
    if (!seen.has(key)) {
      expect(maybe.get(key)?.includes(undefined), `key ${key} lost`).toBe(true)
    }
  }
}

function equal(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a !== undefined && b !== undefined && Buffer.from(a).equals(Buffer.from(b))
}

/** Mutating operations `phase` does on a healthy disk (the sweep's range). */
async function opsOf(phase: Phase): Promise<number> {
  const fs = new FaultInjectionFileSystem()
  const db = await seed(fs, new Map())
  const before = fs.mutatingOps
  await runPhase(db, phase, new Map(), new Maybe())
  await db.close()
  return fs.mutatingOps - before
}

interface Outcome {
  rejected: number
  closeRejected: boolean
}

/** One case of the sweep: the fault from operation `k` of `phase`; checks everything. */
async function runCase(phase: Phase, k: number, code: string, persistent: boolean) {
  const fs = new FaultInjectionFileSystem()
  const model: Model = new Map()
  const maybe = new Maybe()
  const db = await seed(fs, model)
  arm(fs, k, code, persistent)
  const errors = await runPhase(db, phase, model, maybe)
  for (const err of errors) expectStoreFailed(err, code)
  if (errors.length > 0) expect(db.failed).toBe(true)
  if (phase === 'compact' || phase === 'checkpoint') {
    // A failed store refuses writes with the same coded error.
    if (db.failed)
      await expect(db.put(1, valueFor(1, 1, 1))).rejects.toMatchObject({
        code: 'ERR_STORE_FAILED',
      })
  }
  let closeRejected = false
  await db.close().catch((err) => {
    closeRejected = true
    expectStoreFailed(err, code)
  })
  expect(fs.openHandles, 'every file closed').toBe(0)
  await expect(db.close())
    .resolves.toBeUndefined()
    .catch(() => {}) // the same promise again
  expect(() => db.size).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
  // The state a power cut would leave now: every acknowledged write is durable.
  const image = fs.clone().powerCut({ mode: 'drop' })
  const fromImage = await AlexStorage.open(DIR, { ...OPTS, fs: image })
  expectContent(fromImage, model, maybe)
  await fromImage.close()
  // Space freed: a writer reopens in this process at once (the lock was released) with it all.
  disarm(fs)
  const again = await AlexStorage.open(DIR, { ...OPTS, fs })
  expectContent(again, model, maybe)
  await again.put(5000, valueFor(5000, 1, 10))
  await again.close()
  expect(fs.openHandles).toBe(0)
  return { rejected: errors.length, closeRejected } satisfies Outcome
}

describe('a full or failing disk during each phase, swept over the failing operation', () => {
  for (const phase of ['put', 'checkpoint', 'compact', 'close'] as const) {
    for (const [code, persistent] of [
      ['ENOSPC', true],
      ['EIO', false],
    ] as const) {
      it(`${code} from operation k of a ${phase}, for every k`, async () => {
        const total = await opsOf(phase)
        expect(total).toBeGreaterThan(phase === 'put' ? 30 : 3)
        let failures = 0
        for (let k = 1; k <= total + 1; k++) {
          let outcome: Outcome
          try {
            outcome = await runCase(phase, k, code, persistent)
          } catch (err) {
            throw new Error(`${phase}, ${code} at operation ${k} of ${total}: ${err}`, {
              cause: err,
            })
          }
          if (outcome.rejected > 0 || outcome.closeRejected) failures++
        }
        // The sweep did hit the phase (not only operations whose failure goes unseen).
        expect(failures).toBeGreaterThan(total / 2)
      })
    }
  }
})

describe('a full or failing disk during an open (recovery), swept over the failing operation', () => {
  /** A store as a power cut leaves it with work for recovery: a log to replay after a snapshot. */
  async function crashedImage(): Promise<{ image: FaultInjectionFileSystem; model: Model }> {
    const fs = new FaultInjectionFileSystem()
    const model: Model = new Map()
    const db = await seed(fs, model)
    const image = fs.powerCut({ mode: 'drop' })
    await db.close().catch(() => {}) // the crashed file system refuses everything
    return { image, model }
  }

  for (const [code, persistent] of [
    ['ENOSPC', true],
    ['EIO', false],
  ] as const) {
    it(`${code} from operation k of an open that recovers, for every k`, async () => {
      const { image, model } = await crashedImage()
      // The operations of a healthy recovering open (replay, new segment, checkpoint).
      const probe = image.clone()
      const healthy = await AlexStorage.open(DIR, { ...OPTS, fs: probe })
      const total = probe.mutatingOps
      await healthy.close()
      expect(total).toBeGreaterThan(5)
      let refused = 0
      for (let k = 1; k <= total + 1; k++) {
        const fs = image.clone()
        arm(fs, k, code, persistent)
        try {
          const db = await AlexStorage.open(DIR, { ...OPTS, fs }).catch((err: unknown) => {
            // Refused: a coded error with the OS error as cause; nothing left open, no lock.
            expectStoreFailed(err, code)
            expect(fs.openHandles, 'every file closed after a refused open').toBe(0)
            refused++
            return undefined
          })
          if (db !== undefined) {
            expectContent(db, model, new Maybe())
            await db.close().catch((err) => expectStoreFailed(err, code))
            expect(fs.openHandles).toBe(0)
          }
          // Space freed: the store opens in this process at once, with every acknowledged write.
          disarm(fs)
          const again = await AlexStorage.open(DIR, { ...OPTS, fs })
          expectContent(again, model, new Maybe())
          await again.close()
        } catch (err) {
          throw new Error(`open, ${code} at operation ${k} of ${total}: ${err}`, { cause: err })
        }
      }
      expect(refused).toBeGreaterThan(0)
    })
  }
})

// ------------------------------------------------------------------ the real file system

/** Node's file system with a switch that makes writes, creations and fsyncs fail. */
class FailingNodeFs implements FileSystem {
  /** Mutating operations so far. */
  ops = 0
  /** `ops` once the store was open. */
  opsAtOpen = 0
  /** The first mutating operation that fails (from now on, if `persistent`). */
  failAt = Number.POSITIVE_INFINITY
  code = 'ENOSPC'
  persistent = true

  check(op: string, path: string, full: boolean): void {
    this.ops++
    const hit = this.persistent ? this.ops >= this.failAt && full : this.ops === this.failAt
    if (hit) {
      throw Object.assign(new Error(`${this.code}: injected, ${op} '${path}'`), {
        code: this.code,
        syscall: op,
        path,
      })
    }
  }

  open(path: string, flags: OpenFlags): FileHandle {
    if (flags === 'wx+' || flags === 'w+') this.check('open', path, true)
    return new FailingHandle(this, nodeFileSystem.open(path, flags))
  }
  readdir(dir: string): string[] {
    return nodeFileSystem.readdir(dir)
  }
  mkdir(dir: string): void {
    this.check('mkdir', dir, true)
    nodeFileSystem.mkdir(dir)
  }
  exists(path: string): boolean {
    return nodeFileSystem.exists(path)
  }
  rename(from: string, to: string): void {
    this.check('rename', from, false)
    nodeFileSystem.rename(from, to)
  }
  unlink(path: string): void {
    this.check('unlink', path, false)
    nodeFileSystem.unlink(path)
  }
  syncDir(dir: string): Promise<void> {
    try {
      this.check('fsync', dir, true)
    } catch (err) {
      return Promise.reject(err)
    }
    return nodeFileSystem.syncDir(dir)
  }
}

class FailingHandle implements FileHandle {
  readonly path: string
  constructor(
    private readonly fs: FailingNodeFs,
    private readonly inner: FileHandle,
  ) {
    this.path = inner.path
  }
  size(): number {
    return this.inner.size()
  }
  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    return this.inner.read(buffer, offset, length, position)
  }
  write(buffer: Uint8Array, offset: number, length: number, position: number): void {
    this.fs.check('write', this.path, true)
    this.inner.write(buffer, offset, length, position)
  }
  sync(): Promise<void> {
    try {
      this.fs.check('fdatasync', this.path, true)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.inner.sync()
  }
  syncSync(): void {
    this.fs.check('fdatasync', this.path, true)
    this.inner.syncSync()
  }
  truncate(length: number): void {
    this.fs.check('ftruncate', this.path, false)
    this.inner.truncate(length)
  }
  close(): void {
    this.inner.close()
  }
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length
}

/** Opens a store on `fs`, fails operation `k` from then on, and puts; records the outcome. */
async function realPhase(dir: string, fs: FailingNodeFs, k: number, model: Model, maybe: Maybe) {
  const db = await AlexStorage.open(dir, { ...OPTS, fs })
  fs.opsAtOpen = fs.ops
  fs.failAt = fs.ops + k
  for (let i = 0; i < 40; i++) {
    const value = valueFor(i % 25, i, 150)
    await db.put(i % 25, value).then(
      () => model.set(i % 25, value),
      (err) => {
        expect(err).toMatchObject({ code: 'ERR_STORE_FAILED' })
        maybe.add(i % 25, value)
      },
    )
  }
  return db
}

describe('on the real file system', () => {
  const hasProc = existsSync('/proc/self/fd')

  it.skipIf(!hasProc)(
    'ENOSPC from operation k of puts and close: every descriptor is released, the lock too',
    async () => {
      // Operations of the workload on a healthy disk, then the sweep (every 3rd k: real files).
      const probe = tempDir()
      const counter = new FailingNodeFs()
      const db0 = await realPhase(
        probe.dir,
        counter,
        Number.POSITIVE_INFINITY,
        new Map(),
        new Maybe(),
      )
      await db0.close()
      probe.cleanup()
      const total = counter.ops - counter.opsAtOpen
      for (let k = 1; k <= total; k += 3) {
        const { dir, cleanup } = tempDir()
        try {
          const before = openFds()
          const fs = new FailingNodeFs()
          const model: Model = new Map()
          const maybe = new Maybe()
          const db = await realPhase(dir, fs, k, model, maybe)
          await db.close().catch((err) => expectStoreFailed(err, 'ENOSPC'))
          // Background fsyncs settle through libuv: wait for the count, do not sleep.
          await vi.waitFor(() => expect(openFds()).toBeLessThanOrEqual(before), {
            timeout: 120_000, // returns as soon as the count is back; generous for a loaded CI
            interval: 5,
          })
          const again = await AlexStorage.open(dir, OPTS) // the plain file system: space freed
          expectContent(again, model, maybe)
          await again.close()
        } finally {
          cleanup()
        }
      }
    },
  )
})

// ------------------------------------------------------------------ a real full disk

const MOUNT = join(tmpdir(), `alex-tmpfs-${process.pid}`)

function mountTmpfs(): void {
  mkdirSync(MOUNT, { recursive: true })
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', MOUNT], { stdio: 'pipe' })
}

function unmountTmpfs(): void {
  try {
    execFileSync('umount', [MOUNT], { stdio: 'pipe' })
  } catch {
    // Busy: a failed test left a file open. Detach it anyway, so no mount outlives the run.
    execFileSync('umount', ['-l', MOUNT], { stdio: 'pipe' })
  }
  rmSync(MOUNT, { recursive: true, force: true })
}

/**
 * Why the tmpfs tests cannot run here, or undefined if they can: root, and a trial mount works
 * (unmounted at once; the tests mount in beforeAll, so a filtered run leaves no mount behind).
 */
function tmpfsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux'
  if (process.getuid?.() !== 0) return 'not running as root (mount needs it)'
  try {
    mountTmpfs()
  } catch (err) {
    rmSync(MOUNT, { recursive: true, force: true })
    return `mount -t tmpfs failed: ${(err as Error).message.split('\n')[0]}`
  }
  unmountTmpfs()
  return undefined
}

const unavailable = tmpfsUnavailable()
if (unavailable !== undefined) console.warn(`skipping the real tmpfs tests: ${unavailable}`)

describe.skipIf(unavailable !== undefined)('on a real 512 KiB tmpfs', () => {
  beforeAll(mountTmpfs)
  afterAll(unmountTmpfs)

  it('fills the disk: the store fails cleanly, closes, and recovers once space is freed', async () => {
    const dir = join(MOUNT, 'db')
    const filler = join(MOUNT, 'filler')
    // Most of the space is taken by a file deleted later ("freeing space").
    writeFileSync(filler, new Uint8Array(320 * 1024))
    const before = openFds()
    const db = await AlexStorage.open(dir, { segmentBytes: 16384, autoCompaction: false })
    const model: Model = new Map()
    const maybe = new Maybe()
    let failure: unknown
    for (let i = 0; i < 10_000 && failure === undefined; i++) {
      const key = i % 500
      const value = valueFor(key, i, 1000)
      await db.put(key, value).then(
        () => model.set(key, value),
        (err) => {
          failure = err
          maybe.add(key, value)
        },
      )
    }
    expectStoreFailed(failure, 'ENOSPC')
    expect(db.failed).toBe(true)
    await db.close().catch((err) => expectStoreFailed(err, 'ENOSPC'))
    await vi.waitFor(() => expect(openFds()).toBeLessThanOrEqual(before), {
      timeout: 120_000,
      interval: 5,
    })
    expect(existsSync(join(dir, 'LOCK'))).toBe(false)
    unlinkSync(filler)
    const again = await AlexStorage.open(dir, { segmentBytes: 16384, autoCompaction: false })
    expect(model.size).toBeGreaterThan(10)
    expectContent(again, model, maybe)
    await again.close()
    rmSync(dir, { recursive: true, force: true })
  }, 60_000)

  for (const step of ['compact', 'close'] as const) {
    it(`a disk that fills up under an open store: ${step}() fails cleanly`, async () => {
      const dir = join(MOUNT, 'db')
      const before = openFds()
      const options = { segmentBytes: 16384, autoCompaction: false }
      const db = await AlexStorage.open(dir, options)
      const model: Model = new Map()
      for (let i = 0; i < 120; i++) {
        const value = valueFor(i % 40, i, 1000) // overwrites: dead bytes to compact
        await db.put(i % 40, value)
        model.set(i % 40, value)
      }
      const fillers = fillDisk(MOUNT)
      if (step === 'compact') {
        const err = await db.compact().then(
          () => undefined,
          (e: unknown) => e,
        )
        expectStoreFailed(err, 'ENOSPC')
        expect(db.failed).toBe(true)
      }
      const closed = await db.close().then(
        () => undefined,
        (e: unknown) => e,
      )
      if (step === 'close') expectStoreFailed(closed, 'ENOSPC')
      else if (closed !== undefined) expectStoreFailed(closed, 'ENOSPC')
      await vi.waitFor(() => expect(openFds()).toBeLessThanOrEqual(before), {
        timeout: 120_000,
        interval: 5,
      })
      expect(existsSync(join(dir, 'LOCK'))).toBe(false)
      for (const f of fillers) unlinkSync(f)
      const again = await AlexStorage.open(dir, options)
      expectContent(again, model, new Maybe())
      await again.close()
      rmSync(dir, { recursive: true, force: true })
    }, 60_000)
  }
})

/** Fills the file system at `dir` to the last byte with files; returns their paths. */
function fillDisk(dir: string): string[] {
  const paths: string[] = []
  for (const size of [64 * 1024, 4096, 1]) {
    for (;;) {
      const path = join(dir, `filler-${paths.length}`)
      try {
        writeFileSync(path, new Uint8Array(size))
        paths.push(path)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
        if (existsSync(path)) unlinkSync(path)
        break
      }
    }
  }
  return paths
}
