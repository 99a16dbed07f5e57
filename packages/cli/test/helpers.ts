import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { AlexStorage } from '@alex/storage'
import { tempDir as sharedTempDir } from '@alex/test-support'

export const BIN = fileURLToPath(new URL('../dist/index.js', import.meta.url))
const WRITER = fileURLToPath(new URL('./writer.mjs', import.meta.url))

export interface Result {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the built bin with `args`; resolves when it exits. */
export function cli(args: string[], input?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
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
