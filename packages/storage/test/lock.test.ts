import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AlexStorage } from '../src/index.js'
import { tempDir } from './helpers.js'

/**
 * The single-writer lock across processes: a second writer gets ERR_LOCKED while the first is
 * alive, read-only opens are allowed alongside it, and the lock a SIGKILLed writer leaves behind
 * is detected as stale and taken over.
 */

const FIXTURE = fileURLToPath(new URL('./fixtures/hold-open.ts', import.meta.url))
let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir('alex-lock-'))
})
afterEach(() => cleanup())

function start(mode: 'rw' | 'ro'): Promise<{ child: ChildProcess; line: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir, mode], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (chunk: string) => {
      out += chunk
      const nl = out.indexOf('\n')
      if (nl >= 0) resolve({ child, line: out.slice(0, nl) })
    })
    child.on('error', reject)
    child.on('exit', () => resolve({ child, line: out.trim() }))
  })
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((r) => child.on('exit', r))
  child.kill('SIGKILL')
  await exited
}

describe('lock across processes', () => {
  it('refuses a second writer, allows readers, and takes over after the writer is killed', async () => {
    const writer = await start('rw')
    try {
      expect(writer.line).toBe('R 7')
      await expect(AlexStorage.open(dir)).rejects.toMatchObject({ code: 'ERR_LOCKED' })
      const other = await start('rw')
      expect(other.line).toBe('E ERR_LOCKED')
      await kill(other.child)
      const reader = await AlexStorage.open(dir, { readOnly: true })
      expect(reader.get(7)).toEqual(new Uint8Array([7])) // in the writer's log, not checkpointed
      await reader.close()
      const childReader = await start('ro')
      expect(childReader.line).toBe('R 7')
      await kill(childReader.child)
    } finally {
      await kill(writer.child)
    }
    // The killed writer's lock is stale: taken over, and its acknowledged write recovered.
    const db = await AlexStorage.open(dir)
    expect(db.recovery.lockTakenOver).toBe(true)
    expect(db.get(7)).toEqual(new Uint8Array([7]))
    await db.close()
  }, 60_000)
})
