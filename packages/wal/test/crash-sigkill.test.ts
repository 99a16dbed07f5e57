import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { Wal } from '../src/index.js'
import { tempDir, valueFor } from './helpers.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/appender.ts', import.meta.url))
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))
const CYCLES = 16

/** Runs the appender until it has acknowledged something, SIGKILLs it, returns its acks. */
function runAndKill(
  dir: string,
  run: number,
  delayMs: number,
): Promise<Array<{ lsn: bigint; key: number; count: number }>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir, String(run)], {
      cwd: PACKAGE_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    let timer: ReturnType<typeof setTimeout> | undefined
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      out += chunk
      if (timer === undefined && out.includes('\nack ')) {
        timer = setTimeout(() => child.kill('SIGKILL'), delayMs)
      }
    })
    child.stderr.on('data', (chunk) => {
      err += chunk
    })
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000)
    child.on('error', reject)
    child.on('exit', (_code, signal) => {
      clearTimeout(guard)
      if (signal !== 'SIGKILL') return reject(new Error(`appender exited on its own: ${err}`))
      const acks = []
      for (const line of out.split('\n')) {
        const m = /^ack (\d+) (\d+) (\d+)$/.exec(line)
        if (m) acks.push({ lsn: BigInt(m[1] as string), key: Number(m[2]), count: Number(m[3]) })
      }
      resolve(acks)
    })
  })
}

describe('SIGKILL crash test (real file system, child process)', () => {
  it('every acknowledged record replays, in order, and nothing never appended appears', async () => {
    const { dir, cleanup } = tempDir('alex-wal-crash-')
    try {
      /** Acknowledged key of each acknowledged LSN, across all cycles. */
      const acked = new Map<bigint, number>()
      let seed = 12345
      const random = () => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
        return seed / 2 ** 32
      }
      let total = 0
      for (let run = 1; run <= CYCLES; run++) {
        const acks = await runAndKill(dir, run, 5 + Math.floor(random() * 120))
        expect(acks.length).toBeGreaterThan(0)
        for (const a of acks) acked.set(a.lsn - BigInt(a.count - 1), a.key)

        const wal = await Wal.open(dir)
        const cp = wal.checkpointLsn
        let expectLsn = cp
        const keysByLsn = new Map<bigint, number>()
        for (const r of wal.replay()) {
          expectLsn += 1n
          expect(r.lsn).toBe(expectLsn)
          // A real record: a key some run generated, with the value derived from it.
          expect(Math.floor(r.key / 1_000_000)).toBeGreaterThanOrEqual(1)
          expect(Math.floor(r.key / 1_000_000)).toBeLessThanOrEqual(run)
          if (r.key % 7 === 0) expect(r.type).toBe('delete')
          else expect([...(r.value as Uint8Array)]).toEqual([...valueFor(r.key, 0, r.key % 300)])
          keysByLsn.set(r.lsn, r.key)
          total++
        }
        // Every key was appended once: a key twice would be a record replayed twice.
        expect(new Set(keysByLsn.values()).size).toBe(keysByLsn.size)
        for (const [lsn, key] of acked) {
          if (lsn > cp)
            expect(keysByLsn.get(lsn), `acknowledged LSN ${lsn} of run ${run}`).toBe(key)
        }
        // Now and then the owner persists everything and checkpoints, so segments get deleted
        // while later runs are killed.
        if (run % 4 === 0) await wal.checkpoint(wal.lastAppendedLsn - 5n)
        await wal.close()
      }
      expect(total).toBeGreaterThan(CYCLES * 10)
    } finally {
      cleanup()
    }
  })
})
