import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AlexStorage } from '../src/index.js'
import { checkView, writeNext } from './fixtures/follow-history.js'
import { rng, tempDir } from './helpers.js'

/**
 * Readers under fire: a writer and several readers in child processes, any of them SIGKILLed at
 * random. Each reader checks its whole view against the history on every turn of its event loop
 * (fixtures/follow-reader.ts) and fails loudly on a view that is not a prefix of the writer's
 * acknowledged history. Killed readers must not block the writer's log trimming forever (their
 * registrations are reaped), and a killed writer's readers keep serving and pick up the next
 * writer's writes. Then: readers opened and closed in a loop while the writer checkpoints and
 * compacts constantly, with zero failed opens.
 */

const READER = fileURLToPath(new URL('./fixtures/follow-reader.ts', import.meta.url))
const WRITER = fileURLToPath(new URL('./fixtures/follow-writer.ts', import.meta.url))
const ROUNDS = Number(process.env.READERS_SOAK_ROUNDS ?? 8)

let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir('alex-readers-soak-'))
})
afterEach(() => cleanup())

/** The last element of `list` that passes `test` (Array#findLast needs the es2023 lib). */
function lastMatch(list: readonly string[], test: (line: string) => boolean): string | undefined {
  for (let i = list.length - 1; i >= 0; i--) if (test(list[i]!)) return list[i]
  return undefined
}

/** A child process with its stdout as a line stream. */
class Child {
  readonly proc: ChildProcess
  readonly lines: string[] = []
  private waiters: (() => void)[] = []
  exited = false

  constructor(script: string, args: string[]) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    let buf = ''
    this.proc.stdout!.setEncoding('utf8')
    this.proc.stdout!.on('data', (chunk: string) => {
      buf += chunk
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        this.lines.push(buf.slice(0, nl))
        buf = buf.slice(nl + 1)
      }
      this.wake()
    })
    this.proc.on('exit', () => {
      this.exited = true
      this.wake()
    })
  }

  private wake(): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  /** Waits for a line matching `re` (searching from the start) and returns it. */
  async waitLine(re: RegExp): Promise<string> {
    for (;;) {
      const bad = this.lines.find((l) => l.startsWith('BAD'))
      if (bad !== undefined) throw new Error(bad)
      const hit = lastMatch(this.lines, (l) => re.test(l))
      if (hit !== undefined) return hit
      if (this.exited) throw new Error(`child exited; output: ${this.lines.slice(-5).join(' | ')}`)
      await new Promise<void>((r) => this.waiters.push(r))
    }
  }

  /** Waits until the writer has acknowledged `lsn` (it prints `A <lsn>` per write). */
  async waitAcked(lsn: number): Promise<void> {
    while (this.acked() < lsn) {
      if (this.exited) throw new Error(`writer exited; output: ${this.lines.slice(-5).join(' | ')}`)
      await new Promise<void>((r) => this.waiters.push(r))
    }
  }

  /** Sends a command and waits for a reply line matching `re` that comes after it. */
  async ask(command: string, re: RegExp): Promise<string> {
    const from = this.lines.length
    this.proc.stdin!.write(`${command}\n`)
    for (;;) {
      const hit = this.lines.slice(from).find((l) => re.test(l) || l.startsWith('BAD'))
      if (hit !== undefined) {
        if (hit.startsWith('BAD')) throw new Error(hit)
        return hit
      }
      if (this.exited) throw new Error(`child exited; output: ${this.lines.slice(-5).join(' | ')}`)
      await new Promise<void>((r) => this.waiters.push(r))
    }
  }

  /** Last acknowledged LSN the writer printed. */
  acked(): number {
    const last = lastMatch(this.lines, (l) => l.startsWith('A '))
    return last === undefined ? 0 : Number(last.slice(2))
  }

  async kill(): Promise<void> {
    if (this.exited) return
    const exited = new Promise((r) => this.proc.on('exit', r))
    this.proc.kill('SIGKILL')
    await exited
  }
}

describe('readers soak', () => {
  it('a writer and three readers, any of them SIGKILLed at random: every view is a prefix of the acknowledged history', async () => {
    const next = rng(4242)
    let writer = new Child(WRITER, [dir])
    await writer.waitLine(/^R /)
    const readers: Child[] = []
    for (let i = 0; i < 3; i++) {
      const r = new Child(READER, [dir])
      await r.waitLine(/^R /)
      readers.push(r)
    }
    try {
      for (let round = 0; round < ROUNDS; round++) {
        // Let the writer get ahead, then kill someone.
        await writer.waitAcked(writer.acked() + 200)
        const victim = Math.floor(next() * 4)
        if (victim === 3) {
          await writer.kill()
          const acked = writer.acked()
          // The readers keep serving the acknowledged history while no writer runs.
          for (const r of readers) {
            const lsn = Number((await r.ask('catchup', /^lsn /)).slice(4))
            expect(lsn).toBeGreaterThanOrEqual(acked)
          }
          writer = new Child(WRITER, [dir])
          await writer.waitLine(/^R /)
        } else {
          await readers[victim]!.kill()
          readers[victim] = new Child(READER, [dir])
          await readers[victim]!.waitLine(/^R /)
        }
      }
      const acked = writer.acked()
      for (const r of readers) {
        const lsn = Number((await r.ask('catchup', /^lsn /)).slice(4))
        expect(lsn).toBeGreaterThanOrEqual(acked)
      }
      // Dead readers' registrations are reaped: only the three live ones remain.
      expect(await readers[0]!.ask('stats', /^readers /)).toBe('readers 3')
    } finally {
      await writer.kill()
      for (const r of readers) await r.kill()
    }
    const db = await AlexStorage.open(dir)
    expect(checkView(db)).toBeUndefined()
    await db.close()
  })

  it('readers opened and closed in a loop while the writer checkpoints and compacts constantly: zero failed opens', async () => {
    const writer = await AlexStorage.open(dir, {
      segmentBytes: 8 * 1024,
      walSegmentBytes: 8 * 1024,
      checkpointRecords: 50,
      compactionMinBytes: 0,
      compactionThreshold: 0.2,
    })
    let writing = true
    const busy = (async () => {
      let i = 0
      while (writing) {
        await writeNext(writer)
        if (++i % 100 === 0) await writer.compact()
      }
    })()
    const failures: string[] = []
    try {
      for (let i = 0; i < 60 || writer.stats().compactions < 5; i++) {
        // Opens resolve through microtasks only: let the writer's I/O callbacks run in between.
        await new Promise((r) => setImmediate(r))
        try {
          const reader = await AlexStorage.open(dir, { readOnly: true })
          const bad = checkView(reader)
          if (bad !== undefined) failures.push(bad)
          await reader.close()
        } catch (err) {
          failures.push(`${(err as { code?: string }).code}: ${(err as Error).message}`)
        }
        const frozen = await AlexStorage.open(dir, { readOnly: true, follow: false }).catch(
          (err: unknown) => {
            failures.push(`frozen ${(err as { code?: string }).code}: ${(err as Error).message}`)
            return undefined
          },
        )
        if (frozen !== undefined) {
          const bad = checkView(frozen)
          if (bad !== undefined) failures.push(bad)
          await frozen.close()
        }
      }
    } finally {
      writing = false
      await busy
    }
    expect(failures).toEqual([])
    expect(writer.stats().compactions).toBeGreaterThan(3)
    await writer.close()
  })
})
