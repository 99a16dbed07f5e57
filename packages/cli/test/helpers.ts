import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AlexStorage } from '@alex/storage'

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

const temps: string[] = []

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'alex-cli-test-'))
  temps.push(dir)
  return dir
}

export function removeTempDirs(): void {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** A recognizable value per key, so that a test can find it in a segment file. */
export function valueFor(key: number): Uint8Array {
  return new TextEncoder().encode(`value-of-${key}|`.repeat(3))
}

/** Creates a closed store in `dir` with `keys` and their `valueFor`. */
export async function makeStore(dir: string, keys: Iterable<number>): Promise<void> {
  const db = await AlexStorage.open(dir, { sync: 'none' })
  const ops = [...keys].map((key) => ({ type: 'put' as const, key, value: valueFor(key) }))
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

/** A digest of every file under `dir`: path, size, mtime and content. */
export function hashDir(dir: string): string {
  const hash = createHash('sha256')
  const walk = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const full = join(path, entry.name)
      const stat = statSync(full)
      hash.update(`${relative(dir, full)}\0${entry.isDirectory()}\0${stat.size}\0${stat.mtimeMs}\0`)
      if (entry.isDirectory()) walk(full)
      else hash.update(readFileSync(full))
    }
  }
  walk(dir)
  return hash.digest('hex')
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
