import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { LogTail } from '../src/index.js'
import { tailWriterOp } from './fixtures/tail-writer-ops.js'
import { tempDir } from './helpers.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/tail-writer.ts', import.meta.url))
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))
const RECORDS = 1500

interface Got {
  lsn: number
  type: string
  key: number
  value: number[] | undefined
  last: boolean
}

describe('LogTail: another process appends while this one tails', () => {
  it('delivers every record the child wrote, whole and in order, as it writes them', async () => {
    const { dir, cleanup } = tempDir('alex-wal-tail-proc-')
    try {
      const got: Got[] = []
      const ends = new Set<number>()
      let tail: LogTail | undefined
      let reads = 0
      let readsBeforeDone = 0
      const doneLsn = await new Promise<number>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir, String(RECORDS)], {
          cwd: PACKAGE_DIR,
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        let out = ''
        let err = ''
        let written = 0
        let done = -1
        const guard = setTimeout(() => child.kill('SIGKILL'), 300_000)
        const visit = (
          lsn: number,
          type: string,
          key: number,
          value: Uint8Array | undefined,
          last: boolean,
        ) => {
          got.push({ lsn, type, key, value: value ? [...value] : undefined, last })
        }
        child.stdout.setEncoding('utf8')
        child.stdout.on('data', (chunk: string) => {
          out += chunk
          const lines = out.split('\n')
          out = lines.pop() ?? ''
          try {
            for (const line of lines) {
              const [word, n] = line.split(' ')
              if (word === 'ready') tail = LogTail.open(dir, { after: Number(n) })
              if (word === 'written') {
                written = Number(n)
                ends.add(written)
              }
              if (word === 'done') done = Number(n)
            }
            // Read up to what the child says it has written, while it goes on writing.
            if (tail && written > tail.position) {
              tail.read(written, visit)
              reads++
              if (done < 0) readsBeforeDone++
            }
          } catch (e) {
            child.kill('SIGKILL')
            reject(e)
          }
        })
        child.stderr.on('data', (chunk) => {
          err += chunk
        })
        child.on('error', reject)
        child.on('exit', (code) => {
          clearTimeout(guard)
          if (code !== 0 || done < 0) reject(new Error(`child exited with ${code}: ${err}`))
          else resolve(done)
        })
      })
      const t = tail as LogTail
      expect(
        t.read(doneLsn, (lsn, type, key, value, last) => {
          got.push({ lsn, type, key, value: value ? [...value] : undefined, last })
        }),
      ).toBe(doneLsn)
      t.close()
      expect(readsBeforeDone).toBeGreaterThan(1)
      expect(reads).toBeGreaterThan(1)
      expect(got.length).toBe(doneLsn)
      got.forEach((o, j) => {
        const op = tailWriterOp(j)
        const want: Got = {
          lsn: j + 1,
          type: op.type,
          key: j,
          value: op.type === 'put' ? [...op.value] : undefined,
          last: ends.has(j + 1),
        }
        if (JSON.stringify(o) !== JSON.stringify(want)) expect(o).toEqual(want)
      })
    } finally {
      cleanup()
    }
  })
})
