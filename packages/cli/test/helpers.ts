import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { AlexStorage } from '@alex/storage'
import { tempDir as sharedTempDir } from '@alex/test-support'

export const BIN = fileURLToPath(new URL('../dist/index.js', import.meta.url))
const WRITER = fileURLToPath(new URL('./writer.mjs', import.meta.url))
const LIVE_WRITER = fileURLToPath(new URL('./live-writer.mjs', import.meta.url))

export interface Result {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the built bin with `args` (and `env` added to this process's); resolves when it exits. */
export function cli(args: string[], input?: string, env?: NodeJS.ProcessEnv): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(env === undefined ? {} : { env: { ...process.env, ...env } }),
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(input)
  })
}

export { hashDir } from '@alex/test-support'

const cleanups: (() => void)[] = []

/** A fresh temp directory (the shared helper), removed by `removeTempDirs`. */
export function tempDir(): string {
  const { dir, cleanup } = sharedTempDir('alex-cli-test-')
  cleanups.push(cleanup)
  return dir
}

export function removeTempDirs(): void {
  for (const cleanup of cleanups.splice(0)) cleanup()
}

/**
 * A recognizable text value per key, so that a test can find it in a segment file (unlike the
 * shared `valueFor`, whose bytes look random).
 */
export function textValueFor(key: number): Uint8Array {
  return new TextEncoder().encode(`value-of-${key}|`.repeat(3))
}

/** Creates a closed store in `dir` with `keys` and their `valueFor`. */
export async function makeStore(dir: string, keys: Iterable<number>): Promise<void> {
  const db = await AlexStorage.open(dir, { sync: 'none' })
  const ops = [...keys].map((key) => ({ type: 'put' as const, key, value: textValueFor(key) }))
  for (let i = 0; i < ops.length; i += 500) await db.batch(ops.slice(i, i + 500))
  await db.close()
}

/** Every entry of the store in `dir`, as [key, value as text] pairs, from a read-only open. */
export async function readAll(dir: string): Promise<[number, string][]> {
  const db = await AlexStorage.open(dir, { readOnly: true })
  try {
    return [...db.entries()].map(([key, value]) => [key, Buffer.from(value).toString('latin1')])
  } finally {
    await db.close()
  }
}

/** A writer in another process holding the store's lock, once it printed "ready". */
export async function startWriter(
  dir: string,
  keys: number,
): Promise<{ child: ChildProcess; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [WRITER, dir, String(keys)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  await new Promise<void>((resolve, reject) => {
    let out = ''
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d
      if (out.includes('ready\n')) resolve()
    })
    exited.then((code) => reject(new Error(`writer exited (${code}) before ready: ${stderr}`)))
  })
  return {
    child,
    stop: () => {
      child.stdin!.end('close\n')
      return exited
    },
  }
}

/** A command that runs until stopped (`tail`, `stat --watch`), spawned from the built bin. */
export interface Running {
  child: ChildProcess
  /** Everything written so far. */
  stdout: () => string
  stderr: () => string
  /** Resolves once `ready(stdout, stderr)` holds; rejects if the process exits first. */
  until: (ready: (stdout: string, stderr: string) => boolean) => Promise<void>
  /** Resolves with the exit code (or the signal that killed it) once the process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export function startCli(args: string[]): Running {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const waiters = new Set<() => void>()
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  )
  const changed = () => {
    for (const waiter of [...waiters]) waiter()
  }
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d
    changed()
  })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d
    changed()
  })
  const until = (ready: (stdout: string, stderr: string) => boolean) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!ready(stdout, stderr)) return
        waiters.delete(check)
        resolve()
      }
      waiters.add(check)
      check()
      exited.then(({ code, signal }) => {
        if (!waiters.has(check)) return
        waiters.delete(check)
        // One last look: the output may have completed with the exit.
        if (ready(stdout, stderr)) resolve()
        else
          reject(new Error(`exited (${code ?? signal}) first; stdout: ${stdout} stderr: ${stderr}`))
      })
    })
  return { child, stdout: () => stdout, stderr: () => stderr, until, exited }
}

/** What the live writer reports of a change it made: what `tail` should print for it. */
export interface WrittenChange {
  lsn: number
  type: 'put' | 'delete'
  key: number
  value?: string
}

/** A writer in another process (test/live-writer.mjs) that writes when asked. */
export interface LiveWriter {
  /** The store's LSN when the writer was ready. */
  startLsn: number
  /** Makes `n` changes (one at a time, each acknowledged); resolves with them, in LSN order. */
  write: (n: number) => Promise<WrittenChange[]>
  checkpoint: () => Promise<void>
  /** Closes the store; resolves with the exit code. */
  stop: () => Promise<number | null>
}

export async function startLiveWriter(dir: string): Promise<LiveWriter> {
  const child = spawn(process.execPath, [LIVE_WRITER, dir], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  const lines: string[] = []
  let wake: (() => void) | undefined
  let partial = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    const parts = (partial + d).split('\n')
    partial = parts.pop()!
    lines.push(...parts)
    wake?.()
  })
  exited.then(() => wake?.())
  /** The next line the writer prints. */
  const next = async (): Promise<string> => {
    while (lines.length === 0) {
      if (child.exitCode !== null) throw new Error(`live writer exited: ${stderr}`)
      await new Promise<void>((resolve) => (wake = resolve))
    }
    return lines.shift()!
  }
  const ready = await next()
  expectPrefix(ready, 'ready ')
  return {
    startLsn: Number(ready.slice('ready '.length)),
    async write(n) {
      child.stdin!.write(`write ${n}\n`)
      const changes: WrittenChange[] = []
      for (;;) {
        const line = await next()
        if (line.startsWith('wrote ')) return changes
        expectPrefix(line, 'change ')
        changes.push(JSON.parse(line.slice('change '.length)))
      }
    },
    async checkpoint() {
      child.stdin!.write('checkpoint\n')
      expectPrefix(await next(), 'checkpointed')
    },
    stop() {
      child.stdin!.end('close\n')
      return exited
    },
  }
}

function expectPrefix(line: string, prefix: string): void {
  if (!line.startsWith(prefix))
    throw new Error(`live writer: expected "${prefix}...", got "${line}"`)
}

/** The NDJSON lines of `tail`'s output, parsed. */
export function parseLines(text: string): unknown[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line))
}
