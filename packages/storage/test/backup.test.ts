import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { AlexStorage, type AlexStorageOptions, type BackupProgress } from '../src/index.js'
import { hashDir, rng, tempDir, valueFor } from './helpers.js'
import { LsnModel, type LsnOp } from './lsn-model.js'

/**
 * Online backup: a copy taken while writers run holds exactly the writes up to the LSN it
 * reports (checked against a model of every write by LSN), opens as a store and passes a full
 * check (every value read from its file and verified); a backup killed halfway leaves the store
 * intact and a copy that `open` refuses; refused destinations get nothing written.
 */

const { dir: root, cleanup } = tempDir('alex-backup-')
afterAll(() => cleanup())
let n = 0
const fresh = (name: string) => join(root, `${name}-${n++}`)

/** Small segments and frequent checkpoints, so a storm seals segments and checkpoints often. */
const STORM_OPTIONS: AlexStorageOptions = {
  segmentBytes: 64 * 1024,
  checkpointRecords: 300,
  compactionThreshold: 0.3,
  compactionMinBytes: 64 * 1024,
}

/**
 * The full check of a copy: a read-only open that reads every value from its file (`cacheBytes:
 * 0`: each read verifies the record's checksum and that it is the key's), compared with `want`;
 * then a writer open in the strictest recovery mode that writes, closes and reopens.
 */
async function expectStore(dir: string, want: Map<number, Uint8Array>, lsn: number): Promise<void> {
  const ro = await AlexStorage.open(dir, { readOnly: true, cacheBytes: 0 })
  try {
    expect(ro.recovery.source === 'snapshot' || want.size === 0).toBe(true)
    expect(ro.recovery.replayed).toBe(0)
    expect(ro.recovery.truncated).toEqual([])
    expect(ro.recovery.logLoss).toBeUndefined()
    expect(ro.stats().lsn).toBe(lsn)
    expect(ro.size).toBe(want.size)
    let count = 0
    for (const [key, value] of ro.entries()) {
      const expected = want.get(key)
      if (expected === undefined || !Buffer.from(value).equals(Buffer.from(expected))) {
        throw new Error(`copy has key ${key} wrong (expected ${expected?.length ?? 'absent'})`)
      }
      count++
    }
    expect(count).toBe(want.size)
  } finally {
    await ro.close()
  }
  const db = await AlexStorage.open(dir, { recovery: 'absolute-consistency' })
  await db.put(-1, new Uint8Array([1, 2, 3]))
  expect(db.stats().lsn).toBe(lsn + 1) // the copy numbers on after its LSN
  await db.close()
  const again = await AlexStorage.open(dir, { recovery: 'absolute-consistency' })
  expect(again.get(-1)).toEqual(new Uint8Array([1, 2, 3]))
  expect(again.size).toBe(want.size + (want.has(-1) ? 0 : 1))
  await again.close()
}

describe('backup during a write storm', () => {
  it('copies exactly the state at the LSN it reports, while writes go on', async () => {
    const dir = fresh('storm')
    const db = await AlexStorage.open(dir, STORM_OPTIONS)
    const model = new LsnModel(db)
    const random = rng(7)
    let stop = false
    let version = 0
    const writer = async (w: number) => {
      while (!stop) {
        const key = w + 8 * Math.floor(random() * 200)
        const r = random()
        if (r < 0.7) {
          const v = version++
          await model.put(key, valueFor(key, v, 1 + ((v * 37) % 700)))
        } else if (r < 0.85) {
          await model.delete(key)
        } else {
          const ops: LsnOp[] = []
          for (let i = 0; i < 2 + Math.floor(random() * 4); i++) {
            const k = w + 8 * Math.floor(random() * 200)
            const v = version++
            ops.push({ key: k, value: random() < 0.8 ? valueFor(k, v, 1 + (v % 300)) : undefined })
          }
          await model.batch(ops)
        }
      }
    }
    const writers = Array.from({ length: 8 }, (_, w) => writer(w))
    const backups: { dest: string; lsn: number; before: number }[] = []
    for (let round = 0; round < 3; round++) {
      // Let the storm run for a while (a condition: enough new writes), then back up.
      const target = model.byLsn.length + 1500
      await waitFor(() => db.stats().lsn >= target)
      const dest = fresh('storm-copy')
      const before = db.stats().lsn
      const result = await db.backup(dest)
      backups.push({ dest, lsn: result.lsn, before })
      if (round === 1) await db.compact()
    }
    stop = true
    await Promise.all(writers)
    expect(db.stats().lsn).toBe(model.byLsn.length) // the model's LSN numbering is the store's
    await db.close()
    for (const b of backups) {
      expect(b.lsn).toBeGreaterThanOrEqual(b.before) // every write acknowledged before the call
      expect(b.lsn).toBeLessThan(model.byLsn.length) // writes went on after it
      await expectStore(b.dest, model.stateAt(b.lsn), b.lsn)
    }
    // The store itself is intact, with every write.
    await expectStore(dir, model.stateAt(model.byLsn.length), model.byLsn.length)
  })

  it('hard-links the sealed segments on the same file system and copies the rest', async () => {
    const dir = fresh('links')
    const db = await AlexStorage.open(dir, { segmentBytes: 16 * 1024 })
    for (let k = 0; k < 400; k++) await db.put(k, valueFor(k, 0, 200))
    const dest = fresh('links-copy')
    const { lsn } = await db.backup(dest)
    await db.put(1000, new Uint8Array(10)) // the active segment grows past what was copied
    const segments = readdirSync(dest).filter((f) => f.endsWith('.seg'))
    const linked = segments.filter((f) => statSync(join(dest, f)).nlink > 1)
    expect(segments.length).toBeGreaterThan(3)
    expect(linked.length).toBeGreaterThanOrEqual(segments.length - 1) // all but the active one
    await db.close()
    const want = new Map<number, Uint8Array>()
    for (let k = 0; k < 400; k++) want.set(k, valueFor(k, 0, 200))
    await expectStore(dest, want, lsn)
  })

  it('copies instead where a hard link is impossible (another file system)', async () => {
    const shm = '/dev/shm'
    if (!existsSync(shm) || statSync(shm).dev === statSync(root).dev) return // nothing to cross
    const dir = fresh('exdev')
    const db = await AlexStorage.open(dir, { segmentBytes: 16 * 1024 })
    for (let k = 0; k < 200; k++) await db.put(k, valueFor(k, 1, 300))
    const { dir: other, cleanup: removeOther } = (() => {
      const d = join(shm, `alex-backup-test-${process.pid}-${n++}`)
      return {
        dir: d,
        cleanup: () => import('node:fs').then((f) => f.rmSync(d, { recursive: true, force: true })),
      }
    })()
    try {
      const { lsn } = await db.backup(other)
      await db.close()
      for (const f of readdirSync(other).filter((f) => f.endsWith('.seg'))) {
        expect(statSync(join(other, f)).nlink).toBe(1)
      }
      const want = new Map<number, Uint8Array>()
      for (let k = 0; k < 200; k++) want.set(k, valueFor(k, 1, 300))
      await expectStore(other, want, lsn)
    } finally {
      await removeOther()
    }
  })
})

describe('backup, edge cases', () => {
  it('backs up an empty store', async () => {
    const dir = fresh('empty')
    const db = await AlexStorage.open(dir)
    const dest = fresh('empty-copy')
    const result = await db.backup(dest)
    expect(result).toEqual({ lsn: 0, bytes: expect.any(Number), files: 1 }) // the snapshot
    await db.close()
    await expectStore(dest, new Map(), 0)
  })

  it('needs no new checkpoint when nothing was written since the last one', async () => {
    const dir = fresh('idle')
    const db = await AlexStorage.open(dir)
    for (let k = 0; k < 50; k++) await db.put(k, valueFor(k, 4, 40))
    const first = await db.backup(fresh('idle-copy'))
    const checkpoints = db.stats().checkpoints
    const dest = fresh('idle-copy')
    const second = await db.backup(dest)
    expect(db.stats().checkpoints).toBe(checkpoints) // the newest snapshot served as it was
    expect(second.lsn).toBe(first.lsn)
    await db.close()
    const want = new Map<number, Uint8Array>()
    for (let k = 0; k < 50; k++) want.set(k, valueFor(k, 4, 40))
    await expectStore(dest, want, second.lsn)
  })

  it('accepts an existing empty directory as the destination', async () => {
    const dir = fresh('emptydest')
    const db = await AlexStorage.open(dir)
    await db.put(1, new Uint8Array([1]))
    const dest = fresh('emptydest-copy')
    mkdirSync(dest)
    const { lsn } = await db.backup(dest)
    await db.close()
    await expectStore(dest, new Map([[1, new Uint8Array([1])]]), lsn)
  })

  it('refuses a destination that is not empty, a file, or inside the store: nothing written', async () => {
    const dir = fresh('refuse')
    const db = await AlexStorage.open(dir)
    await db.put(1, new Uint8Array([1]))
    const dest = fresh('refuse-copy')
    mkdirSync(dest)
    writeFileSync(join(dest, 'precious.txt'), 'keep me')
    const file = fresh('refuse-file')
    writeFileSync(file, 'a file')
    const destHash = hashDir(dest)
    const storeHash = hashDir(dir)
    for (const target of [dest, file, dir, join(dir, 'inside')]) {
      await expect(db.backup(target)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    }
    await expect(db.backup('')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(
      db.backup(fresh('x'), { onProgress: 3 } as unknown as { onProgress: () => void }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(
      db.backup(fresh('x'), { progress: () => {} } as unknown as { onProgress: () => void }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    expect(hashDir(dest)).toBe(destHash)
    expect(hashDir(dir)).toBe(storeHash) // refused before anything ran (no checkpoint either)
    expect(existsSync(join(dir, 'inside'))).toBe(false)
    await db.close()
  })

  it('reports progress that never goes back and ends at the totals it announced', async () => {
    const dir = fresh('progress')
    const db = await AlexStorage.open(dir, { segmentBytes: 16 * 1024 })
    for (let k = 0; k < 300; k++) await db.put(k, valueFor(k, 2, 150))
    const seen: BackupProgress[] = []
    const result = await db.backup(fresh('progress-copy'), { onProgress: (p) => seen.push(p) })
    expect(seen.length).toBeGreaterThan(2)
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]!.bytes).toBeGreaterThanOrEqual(seen[i - 1]!.bytes)
      expect(seen[i]!.files).toBeGreaterThanOrEqual(seen[i - 1]!.files)
      expect(seen[i]!.totalBytes).toBe(seen[0]!.totalBytes)
      expect(seen[i]!.totalFiles).toBe(seen[0]!.totalFiles)
    }
    const last = seen[seen.length - 1]!
    expect(last).toEqual({
      bytes: last.totalBytes,
      files: last.totalFiles,
      totalBytes: result.bytes,
      totalFiles: result.files,
    })
    await db.close()
  })

  it('a copy that fails halfway is refused by open, and the store carries on', async () => {
    const dir = fresh('fails')
    const db = await AlexStorage.open(dir, { segmentBytes: 16 * 1024 })
    for (let k = 0; k < 300; k++) await db.put(k, valueFor(k, 3, 150))
    const dest = fresh('fails-copy')
    const boom = new Error('progress callback failed')
    await expect(
      db.backup(dest, {
        onProgress: (p) => {
          if (p.files === 2) throw boom
        },
      }),
    ).rejects.toBe(boom)
    expect(db.failed).toBe(false)
    await db.put(5000, new Uint8Array([5])) // still writable
    const before = hashDir(dest)
    for (const readOnly of [true, false]) {
      await expect(AlexStorage.open(dest, { readOnly })).rejects.toMatchObject({
        code: 'ERR_INCOMPLETE_BACKUP',
      })
    }
    expect(hashDir(dest)).toBe(before) // the refused opens changed nothing
    await db.close()
  })

  it('refuses on a read-only or closed store', async () => {
    const dir = fresh('ro')
    const w = await AlexStorage.open(dir)
    await w.put(1, new Uint8Array([1]))
    await w.close()
    const ro = await AlexStorage.open(dir, { readOnly: true })
    await expect(ro.backup(fresh('ro-copy'))).rejects.toMatchObject({ code: 'ERR_READ_ONLY' })
    await ro.close()
    await expect(w.backup(fresh('closed-copy'))).rejects.toMatchObject({ code: 'ERR_CLOSED' })
  })
})

const FIXTURE = fileURLToPath(new URL('./fixtures/backup-child.ts', import.meta.url))

interface ChildRun {
  lines: string[]
  stderr: string
  signal: NodeJS.Signals | null
}

/** Runs the backup child and SIGKILLs it once it reported `killAt` progress steps. */
function runChild(dir: string, dest: string, killAt: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir, dest], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let stderr = ''
    let steps = 0
    const safety = setTimeout(() => child.kill('SIGKILL'), 120_000)
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (chunk: string) => {
      out += chunk
      steps += (chunk.match(/^P /gm) ?? []).length
      if (steps >= killAt) child.kill('SIGKILL')
    })
    child.stderr!.setEncoding('utf8')
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('exit', (_code, signal) => {
      clearTimeout(safety)
      resolve({ lines: out.split('\n').filter((l) => l !== ''), stderr, signal })
    })
  })
}

describe('a backup killed halfway (SIGKILL)', () => {
  it('leaves the store intact and a copy that open refuses', async () => {
    const dir = fresh('killed')
    for (const killAt of [1, 2, 4]) {
      const dest = fresh('killed-copy')
      const run = await runChild(dir, dest, killAt)
      expect(run.signal, run.stderr).toBe('SIGKILL')
      expect(run.lines.some((l) => l.startsWith('DONE'))).toBe(false) // killed before the end
      // The copy: refused, whichever open, and the refusal changes nothing.
      expect(existsSync(join(dest, 'BACKUP-INCOMPLETE'))).toBe(true)
      const before = hashDir(dest)
      for (const readOnly of [true, false]) {
        await expect(AlexStorage.open(dest, { readOnly })).rejects.toMatchObject({
          code: 'ERR_INCOMPLETE_BACKUP',
        })
      }
      expect(hashDir(dest)).toBe(before)
      // The store: every acknowledged write, each in-flight one all or nothing.
      const acked = new Map<number, number>() // key -> last acknowledged version
      const inFlight = new Map<number, number>()
      for (const line of run.lines) {
        const [tag, k, v] = line.split(' ')
        if (tag === 'I') inFlight.set(Number(k), Number(v))
        if (tag === 'A') {
          acked.set(Number(k), Number(v))
          inFlight.delete(Number(k))
        }
      }
      const db = await AlexStorage.open(dir, { recovery: 'absolute-consistency' })
      expect(db.recovery.logLoss).toBeUndefined()
      for (let k = 0; k < 2000; k++) {
        expect(db.get(k), `base key ${k}`).toEqual(valueFor(k, 0, 100)) // loaded before the storm
      }
      for (const [k, v] of acked) {
        const got = db.get(k)
        const ok = [v, inFlight.get(k)].some(
          (version) =>
            version !== undefined &&
            got !== undefined &&
            Buffer.from(got).equals(Buffer.from(valueFor(k, version, 64))),
        )
        expect(ok, `storm key ${k}`).toBe(true)
      }
      await db.close()
    }
  })
})

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setImmediate(r))
}
