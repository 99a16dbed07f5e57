import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isWalError, type RecoveryMode, type RecoveryReport, Wal } from '../src/index.js'
import { FaultInjectionFileSystem } from '../src/testing.js'
import { flipBits, put, tempDir } from './helpers.js'

const DIR = '/db/wal'
const seg = (id: number) => `${DIR}/${String(id).padStart(20, '0')}.wal`
const MODES: RecoveryMode[] = ['tolerate-torn-tail', 'absolute-consistency', 'point-in-time']

/** Every file's name and current bytes, and every durable name and its durable bytes. */
function fingerprint(fs: FaultInjectionFileSystem): string {
  const h = createHash('sha256')
  for (const f of fs.listFiles()) {
    h.update(`${f}\0`).update(fs.readFile(f)).update('\0').update(fs.readDurableFile(f))
  }
  return h.digest('hex')
}

function edit(fs: FaultInjectionFileSystem, path: string, f: (b: Uint8Array) => Uint8Array) {
  fs.writeFile(path, f(fs.readFile(path).slice()))
}

async function appendAll(fs: FaultInjectionFileSystem, keys: number[], close = true) {
  const wal = await Wal.open(DIR, { fs, segmentBytes: 4096 })
  for (const k of keys) await wal.append(put(k, 200))
  if (close) await wal.close()
  return wal
}

/** Logs in the states recovery distinguishes, each built on a fresh in-memory file system. */
const SCENARIOS: Record<string, () => Promise<FaultInjectionFileSystem>> = {
  'missing directory': async () => new FaultInjectionFileSystem(),
  'empty directory': async () => {
    const fs = new FaultInjectionFileSystem()
    fs.mkdir(DIR)
    return fs
  },
  'clean log of several segments': async () => {
    const fs = new FaultInjectionFileSystem()
    await appendAll(fs, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20])
    await appendAll(fs, [21])
    return fs
  },
  'crashed with preallocated padding': async () => {
    const fs = new FaultInjectionFileSystem()
    await appendAll(fs, [1, 2, 3], false)
    return fs.processCrash()
  },
  'torn tail': async () => {
    const fs = new FaultInjectionFileSystem()
    await appendAll(fs, [1, 2, 3])
    edit(fs, seg(1), (b) => b.subarray(0, b.length - 7))
    return fs
  },
  'torn tail with intact frames after it (out of order)': async () => {
    const fs = new FaultInjectionFileSystem()
    const wal = await Wal.open(DIR, { fs, sync: 'none' })
    await wal.append(put(1))
    await wal.sync()
    const at = wal.stats().bytesWritten
    for (let k = 2; k <= 4; k++) await wal.append(put(k, 60))
    const image = fs.processCrash()
    edit(image, seg(1), (b) => {
      flipBits(b, at + 40, 1)
      return b
    })
    return image
  },
  'damaged acknowledged record': async () => {
    const fs = new FaultInjectionFileSystem()
    await appendAll(fs, [1, 2, 3, 4])
    edit(fs, seg(1), (b) => {
      flipBits(b, 56 + 60, 2)
      return b
    })
    return fs
  },
  'damaged sealed segment': async () => {
    const fs = new FaultInjectionFileSystem()
    await appendAll(fs, [1, 2])
    await appendAll(fs, [3])
    edit(fs, seg(1), (b) => b.subarray(0, b.length - 3))
    return fs
  },
  'bad header in the newest segment': async () => {
    const fs = new FaultInjectionFileSystem()
    await appendAll(fs, [1, 2])
    await appendAll(fs, [3])
    edit(fs, seg(2), (b) => {
      b[0] = 0
      return b
    })
    return fs
  },
  'leftover temp file and segments a checkpoint covers': async () => {
    const fs = new FaultInjectionFileSystem()
    const wal = await appendAll(fs, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], false)
    const before = fs.listFiles().map((f) => [f, fs.readFile(f)] as const)
    await wal.checkpoint(12n)
    await wal.close()
    for (const [f, bytes] of before) if (!fs.exists(f)) fs.writeFile(f, bytes)
    fs.writeFile(`${DIR}/00000000000000000099.wal.tmp`, new Uint8Array(3))
    return fs
  },
  'a segment from a newer format': async () => {
    const fs = new FaultInjectionFileSystem()
    await appendAll(fs, [1])
    edit(fs, seg(1), (b) => {
      b[8] = 9
      return b
    })
    return fs
  },
}

type Outcome = { report: RecoveryReport } | { error: unknown }

/** What the default mode does with each scenario (so the scenarios are what they say). */
const DEFAULT_OUTCOME: Record<keyof typeof SCENARIOS, string> = {
  'missing directory': 'clean',
  'empty directory': 'clean',
  'clean log of several segments': 'clean',
  'crashed with preallocated padding': 'clean',
  'torn tail': 'dropped',
  'torn tail with intact frames after it (out of order)': 'dropped',
  'damaged acknowledged record': 'ERR_CORRUPTION',
  'damaged sealed segment': 'ERR_CORRUPTION',
  'bad header in the newest segment': 'ERR_CORRUPTION',
  'leftover temp file and segments a checkpoint covers': 'removed',
  'a segment from a newer format': 'ERR_UNSUPPORTED_VERSION',
}

function summary(outcome: Outcome): string {
  if ('error' in outcome) return isWalError(outcome.error) ? outcome.error.code : 'other error'
  const r = outcome.report
  return r.dropped.length > 0 ? 'dropped' : r.removedFiles.length > 0 ? 'removed' : 'clean'
}

function errorShape(err: unknown) {
  if (!isWalError(err)) throw err
  const { code, file, offset, reason, message } = err
  return { code, file, offset, reason, message }
}

describe('Wal.inspect', () => {
  for (const [name, build] of Object.entries(SCENARIOS)) {
    it(`${name}: reports or refuses exactly as open, and changes nothing`, async () => {
      for (const recovery of MODES) {
        for (const minNextLsn of [undefined, 1000n]) {
          const fs = await build()
          const options = { fs, recovery, minNextLsn }
          const before = fingerprint(fs)
          const ops = fs.mutatingOps
          let inspected: Outcome
          try {
            inspected = { report: Wal.inspect(DIR, options) }
          } catch (error) {
            inspected = { error }
          }
          expect(fs.mutatingOps, `${name} ${recovery}`).toBe(ops)
          expect(fingerprint(fs), `${name} ${recovery}`).toBe(before)
          expect(fs.exists(DIR)).toBe(name !== 'missing directory')
          if (recovery === 'tolerate-torn-tail')
            expect(summary(inspected)).toBe(DEFAULT_OUTCOME[name])

          const opened = fs.clone()
          let wal: Wal | undefined
          try {
            wal = await Wal.open(DIR, { ...options, fs: opened })
          } catch (error) {
            expect('error' in inspected, `${name} ${recovery}: open refused, inspect did not`).toBe(
              true,
            )
            if ('error' in inspected) expect(errorShape(inspected.error)).toEqual(errorShape(error))
            continue
          }
          expect('report' in inspected, `${name} ${recovery}: inspect refused, open did not`).toBe(
            true,
          )
          if ('report' in inspected) expect(inspected.report).toEqual(wal.recovery)
          await wal.close()
        }
      }
    })
  }

  it('a missing directory is an empty log, and is not created', () => {
    const fs = new FaultInjectionFileSystem()
    expect(Wal.inspect('/nowhere/wal', { fs, minNextLsn: 7n })).toEqual({
      mode: 'tolerate-torn-tail',
      segments: 0,
      segmentIds: [],
      records: 0,
      checkpointLsn: 0n,
      lastLsn: 0n,
      nextLsn: 7n,
      dropped: [],
      removedFiles: [],
    })
    expect(fs.exists('/nowhere')).toBe(false)
    expect(fs.mutatingOps).toBe(0)
  })

  it('checks the options as open does (synchronously)', () => {
    const fs = new FaultInjectionFileSystem()
    for (const bad of [
      { recovery: 'lenient' },
      { minNextLsn: 0n },
      { segmentBytes: 10 },
      { sync: 'sometimes' },
    ]) {
      expect(() => Wal.inspect(DIR, { fs, ...(bad as object) })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      )
    }
  })

  it('reports segment ids, and a last LSN no lower than the checkpoint', async () => {
    const fs = new FaultInjectionFileSystem()
    const wal = await Wal.open(DIR, { fs, segmentBytes: 4096 })
    for (let k = 1; k <= 30; k++) await wal.append(put(k, 200))
    await wal.checkpoint(30n) // covers everything: only a new, empty segment stays
    await wal.close()
    const report = Wal.inspect(DIR, { fs })
    expect(report).toMatchObject({ records: 0, checkpointLsn: 30n, lastLsn: 30n, nextLsn: 31n })
    expect(report.segmentIds).toEqual(
      fs.listFiles().map((f) => Number(f.slice(DIR.length + 1, DIR.length + 21))),
    )
    const again = await Wal.open(DIR, { fs })
    expect(again.recovery).toEqual(report)
    expect(again.recovery.segmentIds.length).toBe(again.recovery.segments)
    await again.close()
  })

  it('on the real file system: the same report as open, no byte or name changed', async () => {
    const { dir, cleanup } = tempDir()
    try {
      const walDir = join(dir, 'wal')
      expect(Wal.inspect(walDir).segments).toBe(0)
      expect(existsSync(walDir)).toBe(false)
      const wal = await Wal.open(walDir)
      for (let k = 1; k <= 5; k++) await wal.append(put(k))
      await wal.close()
      // A torn tail and a leftover temporary file: open would repair both.
      const name = readdirSync(walDir)[0] as string
      const bytes = readFileSync(join(walDir, name))
      writeFileSync(join(walDir, name), bytes.subarray(0, bytes.length - 5))
      writeFileSync(join(walDir, '00000000000000000007.wal.tmp'), 'x')
      const snapshot = () =>
        readdirSync(walDir)
          .sort()
          .map((f) => [f, readFileSync(join(walDir, f)).toString('hex')])
      const before = snapshot()
      const report = Wal.inspect(walDir)
      expect(snapshot()).toEqual(before)
      expect(report.dropped).toHaveLength(1)
      expect(report.removedFiles).toEqual([join(walDir, '00000000000000000007.wal.tmp')])
      const opened = await Wal.open(walDir)
      expect(opened.recovery).toEqual(report)
      await opened.close()
    } finally {
      cleanup()
    }
  })
})
