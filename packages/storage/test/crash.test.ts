import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type AlexIndex, checkInvariants } from '@alex/index'
import { afterAll, describe, expect, it } from 'vitest'
import { AlexStorage } from '../src/index.js'
import { CALLERS, KEYS_PER_CALLER, lengthOf } from './fixtures/crash-protocol.js'
import { rng, tempDir, valueFor } from './helpers.js'

/**
 * SIGKILL crash test. A child process (test/fixtures/crash-writer.ts) writes with
 * `sync: 'always'` from many concurrent callers, with checkpoints and compactions running, and
 * announces each operation before issuing it and each acknowledgement after. The parent kills it
 * at random moments (while it opens and recovers, while it writes, right after a checkpoint or a
 * compaction started), reopens the store and checks every key: it must hold the last acknowledged
 * value or, if a write to it was in flight, that write's value, byte for byte, with in-flight
 * batches applied all or none. Many cycles run on the same directory, each recovering what the
 * previous one left.
 */

const FIXTURE = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url))
const KEYS = CALLERS * KEYS_PER_CALLER

type Write = { key: number; version: number | undefined } // version undefined: a delete
type Plan = 'early' | 'running' | 'maintenance'

const { dir, cleanup } = tempDir('alex-crash-')
afterAll(() => cleanup())

interface ChildRun {
  lines: string[]
  stderr: string
  signal: NodeJS.Signals | null
  inMaintenance: string | undefined
}

function runChild(seed: number, plan: Plan, random: () => number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', FIXTURE, dir, String(seed)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let out = ''
    let stderr = ''
    let killed = false
    let maintenance: string | undefined
    const kill = () => {
      if (killed) return
      killed = true
      child.kill('SIGKILL')
    }
    const timers: NodeJS.Timeout[] = []
    const later = (ms: number) => timers.push(setTimeout(kill, ms))
    timers.push(setTimeout(kill, 15_000)) // safety net
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (chunk: string) => {
      out += chunk
      if (killed) return
      if (plan === 'early' && /^O$/m.test(chunk)) {
        later(random() * 12) // while it opens: recovery of what the previous kill left
      } else if (plan === 'running' && /^R$/m.test(chunk)) {
        later(20 + random() * 400)
      } else if (plan === 'maintenance' && /^M\+ /m.test(chunk)) {
        // Right after a checkpoint or compaction started: kill within a few ms.
        const kind = /^M\+ (\w+)/m.exec(chunk)?.[1]
        if (kind === 'compact' || random() < 0.5) later(random() * 4)
      }
    })
    child.stderr!.setEncoding('utf8')
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('exit', (_code, signal) => {
      for (const t of timers) clearTimeout(t)
      const lines = out.split('\n')
      lines.pop() // the last line is incomplete (or empty)
      for (const line of lines) {
        if (line.startsWith('M+ ')) maintenance = line.slice(3)
        else if (line.startsWith('M- ')) maintenance = undefined
      }
      resolve({ lines, stderr, signal, inMaintenance: maintenance })
    })
  })
}

function parseWrites(words: string[]): Write[] {
  return words.map((w) => {
    const [t, k, v] = w.split(':')
    return { key: Number(k), version: t === 'p' ? Number(v) : undefined }
  })
}

function expectedBytes(w: { key: number; version: number | undefined }): Uint8Array | undefined {
  return w.version === undefined ? undefined : valueFor(w.key, w.version, lengthOf(w.version))
}

function equalBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

describe('SIGKILL crash test', () => {
  it('keeps every acknowledged write and tears no value, over many kill/recover cycles', async () => {
    const random = rng(20240611)
    // The acknowledged state: key -> version (undefined: absent).
    const model = new Map<number, number | undefined>()
    const plans: Plan[] = ['early', 'running', 'maintenance']
    const cycles = 15
    let acknowledged = 0
    let inFlightSeen = 0
    const killedDuring = new Map<string, number>()
    for (let cycle = 0; cycle < cycles; cycle++) {
      const plan = plans[cycle % plans.length]!
      const run = await runChild(cycle + 1, plan, random)
      if (!run.lines.includes('R')) killedDuring.set('open', (killedDuring.get('open') ?? 0) + 1)
      expect(run.signal, `child exited by itself: ${run.stderr}`).toBe('SIGKILL')
      if (run.inMaintenance)
        killedDuring.set(run.inMaintenance, (killedDuring.get(run.inMaintenance) ?? 0) + 1)
      // Replay the child's log: acknowledged operations update the model; the rest were in flight.
      const pending = new Map<string, Write[]>()
      for (const line of run.lines) {
        if (line.startsWith('I ')) {
          const [, id, ...words] = line.split(' ')
          pending.set(id!, parseWrites(words))
        } else if (line.startsWith('A ')) {
          const id = line.slice(2)
          for (const w of pending.get(id)!) model.set(w.key, w.version)
          pending.delete(id)
          acknowledged++
        }
      }
      const db = await AlexStorage.open(dir)
      try {
        const actual = new Map<number, Uint8Array | undefined>()
        for (let key = 0; key < KEYS; key++) actual.set(key, db.get(key)?.slice())
        // In-flight operations: all of their writes applied, or none.
        const touched = new Set<number>()
        for (const writes of pending.values()) {
          inFlightSeen++
          const final = new Map<number, Write>()
          for (const w of writes) final.set(w.key, w)
          let applied = 0
          let notApplied = 0
          for (const [key, w] of final) {
            touched.add(key)
            const now = actual.get(key)
            const ifApplied = equalBytes(now, expectedBytes(w))
            const ifNot = equalBytes(now, expectedBytes({ key, version: model.get(key) }))
            if (!ifApplied && !ifNot) {
              const history = run.lines.filter(
                (l) => l.includes(`:${key}:`) || l.endsWith(`d:${key}`) || l.includes(`d:${key} `),
              )
              const match = run.lines
                .filter((l) => l.startsWith('I '))
                .flatMap((l) => parseWrites(l.split(' ').slice(2)))
                .filter((x) => x.key === key && equalBytes(now, expectedBytes(x)))
              throw new Error(
                `cycle ${cycle}: key ${key} holds neither its acknowledged (${model.get(key)}) nor its in-flight value ${JSON.stringify(w)}; holds ${now?.length} bytes = ${JSON.stringify(match)}; last ops: ${history.slice(-5).join(' | ')}; in flight: ${JSON.stringify([...pending.values()].filter((ws) => ws.some((x) => x.key === key)))}`,
              )
            }
            if (ifApplied && !ifNot) applied++
            if (ifNot && !ifApplied) notApplied++
          }
          expect(applied === 0 || notApplied === 0, `cycle ${cycle}: batch half applied`).toBe(true)
          if (applied > 0) for (const [key, w] of final) model.set(key, w.version)
        }
        for (let key = 0; key < KEYS; key++) {
          if (touched.has(key)) continue
          const want = expectedBytes({ key, version: model.get(key) })
          if (!equalBytes(actual.get(key), want)) {
            throw new Error(
              `cycle ${cycle} (${plan}): key ${key} should hold version ${model.get(key)}, holds ${actual.get(key)?.length ?? 'nothing'}`,
            )
          }
        }
        checkInvariants((db as unknown as { index: AlexIndex }).index)
        expect(db.size).toBe([...model.values()].filter((v) => v !== undefined).length)
      } finally {
        await db.close()
      }
    }
    expect(acknowledged).toBeGreaterThan(1000)
    expect(inFlightSeen).toBeGreaterThan(0)
    // The kills landed inside checkpoints and compactions, not only between them.
    expect(killedDuring.get('checkpoint') ?? 0).toBeGreaterThan(0)
    expect(killedDuring.get('compact') ?? 0).toBeGreaterThan(0)
    expect(killedDuring.get('open') ?? 0).toBeGreaterThan(0) // crashes during recovery itself
    console.log('crash test:', {
      acknowledged,
      inFlightSeen,
      killedDuring: Object.fromEntries(killedDuring),
    })
  })
})
