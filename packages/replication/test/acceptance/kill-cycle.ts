import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { valueFor } from '@alex/test-support'
import type { Model } from '../helpers.js'

/**
 * The parent's side of the SIGKILL acceptance test: runs test/acceptance/fixtures/shipping-writer.ts,
 * kills it at a chosen moment, and folds its stdout protocol into a model of every write issued, by
 * LSN, with the acknowledgement times.
 */

const FIXTURE = fileURLToPath(new URL('./fixtures/shipping-writer.ts', import.meta.url))

/** When to SIGKILL the writer. */
export type KillPlan =
  /**
   * `delayMs` after the replicator confirmed `after` shipments of writes made in this run (a
   * random moment).
   */
  | { kind: 'shipped'; after: number; delayMs: number }
  /** Right as a log object's PUT is sent (after `after` confirmed shipments). */
  | { kind: 'put'; after: number }
  /** No kill: the child writes a little, flushes and exits. */
  | { kind: 'finish' }

export interface ChildRun {
  lines: string[]
  stderr: string
  code: number | null
  signal: NodeJS.Signals | null
  /** When the parent sent SIGKILL (ms since the epoch). */
  killedAt: number | undefined
}

/** Runs the writer on `dir` until the plan kills it (or it exits). */
export function runWriter(
  args: { dir: string; bucket: string; prefix: string; seed: number; intervalMs: number },
  plan: KillPlan,
  env: Record<string, string>,
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        FIXTURE,
        args.dir,
        args.bucket,
        args.prefix,
        String(args.seed),
        String(args.intervalMs),
        plan.kind === 'finish' ? 'finish' : 'run',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
    )
    let out = ''
    let stderr = ''
    let killedAt: number | undefined
    let shipped = 0 // confirmations past the LSN the store recovered: new writes shipped
    let openLsn: number | undefined
    const kill = () => {
      if (killedAt !== undefined) return
      killedAt = Date.now()
      child.kill('SIGKILL')
    }
    // A backstop for a writer that never ships: the test then fails on its assertions.
    const backstop = plan.kind === 'finish' ? undefined : setTimeout(kill, 90_000)
    let delay: NodeJS.Timeout | undefined
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (chunk: string) => {
      out += chunk
      if (plan.kind === 'finish' || killedAt !== undefined) return
      for (const line of chunk.split('\n')) {
        if (line.startsWith('R ')) openLsn = Number(line.split(' ')[1])
        else if (openLsn !== undefined && line.startsWith('S ')) {
          if (Number(line.split(' ')[1]) > openLsn) shipped++
        } else if (plan.kind === 'put' && shipped >= plan.after && line.startsWith('P ')) kill()
        if (plan.kind === 'shipped' && shipped >= plan.after && delay === undefined) {
          delay = setTimeout(kill, plan.delayMs)
        }
      }
    })
    child.stderr!.setEncoding('utf8')
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (backstop !== undefined) clearTimeout(backstop)
      if (delay !== undefined) clearTimeout(delay)
      const lines = out.split('\n')
      lines.pop() // incomplete (or empty)
      resolve({ lines, stderr, code, signal, killedAt })
    })
  })
}

/** What one run of the writer did, folded into the model. */
export interface Folded {
  /** The store's LSN when the writer had recovered and started replicating. */
  openLsn: number
  /** The highest LSN the replicator reported confirmed (`S` lines). */
  shippedLsn: number
  /** Each acknowledged write: its last LSN and when it was acknowledged. */
  acks: { lsn: number; at: number }[]
  /** Durations of the log object PUTs that answered (ms). */
  uploads: number[]
  /** `F` lines: replication failed for good. */
  failures: string[]
  done: boolean
}

/**
 * Folds a run into `model`: the writes issued before the crash that the store did not recover
 * (LSNs past `R`) are dropped first, then every `I` line adds its writes at the next LSNs.
 */
export function fold(model: Model, run: ChildRun): Folded {
  const r = run.lines.find((l) => l.startsWith('R '))
  if (r === undefined) throw new Error(`the writer never started: ${run.stderr}`)
  const openLsn = Number(r.split(' ')[1])
  const issued = model.ops.length
  if (openLsn > issued) throw new Error(`recovered LSN ${openLsn} > issued ${issued}`)
  model.ops.length = openLsn
  model.ends.length = openLsn
  const ends: number[] = [] // last LSN of each write issued in this run, by id
  const folded: Folded = {
    openLsn,
    shippedLsn: 0,
    acks: [],
    uploads: [],
    failures: [],
    done: false,
  }
  for (const line of run.lines) {
    const [tag, ...words] = line.split(' ')
    if (tag === 'I') {
      for (let i = 0; i < words.length; i++) {
        const [t, k, v, len] = words[i]!.split(':')
        const key = Number(k)
        model.ops.push({
          key,
          value: t === 'p' ? valueFor(key, Number(v), Number(len)) : undefined,
        })
        model.ends.push(i === words.length - 1)
      }
      ends.push(model.ops.length)
    } else if (tag === 'A') {
      folded.acks.push({ lsn: ends[Number(words[0])]!, at: Number(words[1]) })
    } else if (tag === 'S') {
      folded.shippedLsn = Math.max(folded.shippedLsn, Number(words[0]))
    } else if (tag === 'U') {
      folded.uploads.push(Number(words[0]))
    } else if (tag === 'F') {
      folded.failures.push(words.join(' '))
    } else if (tag === 'D') {
      folded.done = true
    }
  }
  return folded
}
