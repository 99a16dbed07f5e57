import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  cli,
  removeTempDirs,
  startCli,
  startLiveWriter,
  tempDir,
  type WrittenChange,
} from './helpers.js'

afterAll(removeTempDirs)

const blocks = (text: string) => text.split(/^time\s/m).length - 1

/** How many keys the store holds after these changes (from an empty store). */
function keyCount(changes: WrittenChange[]): number {
  const keys = new Set<number>()
  for (const c of changes) {
    if (c.type === 'put') keys.add(c.key)
    else keys.delete(c.key)
  }
  return keys.size
}

describe('alexstorage stat --watch (stdout not a terminal)', () => {
  it('prints a block per interval, follows the writer, and exits 0 on SIGINT', async () => {
    const dir = join(tempDir(), 'db')
    const writer = await startLiveWriter(dir)
    try {
      const written = await writer.write(10)
      const keys = keyCount(written)
      const watch = startCli(['stat', dir, '--watch', '--interval', '50'])
      await watch.until((out) => blocks(out) >= 2)
      const first = watch.stdout().split('\n\n')[0]!
      expect(first).toMatch(/^time\s+\S+ \(every 50 ms; Ctrl-C to stop\)$/m)
      expect(first).toMatch(new RegExp(`^keys\\s+${keys}$`, 'm'))
      expect(first).toMatch(/^follow\s+writer published LSN \d+, this view at LSN \d+, 0 reload/m)
      expect(first).toMatch(/^readers\s+1$/m)
      expect(first).toContain(`pid ${watch.child.pid} thread 0 (this command)`)

      // Blocks after a write show it: the open follows the writer.
      written.push(...(await writer.write(5)))
      const keysNow = /^keys\s+(\d+)$/gm
      const later = keyCount(written)
      expect(later).toBeGreaterThan(keys)
      await watch.until((out) => [...out.matchAll(keysNow)].some((m) => Number(m[1]) === later))
      watch.child.kill('SIGINT')
      expect(await watch.exited).toEqual({ code: 0, signal: null })
      expect(watch.stderr()).toBe('')
      expect(watch.stdout().endsWith('\n\n')).toBe(true) // whole blocks only
    } finally {
      expect(await writer.stop()).toBe(0)
    }
  })

  it('prints one JSON object per line with --json', async () => {
    const dir = join(tempDir(), 'db')
    const writer = await startLiveWriter(dir)
    try {
      const changes = await writer.write(7)
      const watch = startCli(['stat', dir, '--watch', '--json', '--interval', '20'])
      await watch.until((out) => out.split('\n').length > 3)
      watch.child.kill('SIGINT')
      expect(await watch.exited).toEqual({ code: 0, signal: null })
      const samples = watch
        .stdout()
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line))
      expect(samples.length).toBeGreaterThanOrEqual(3)
      for (const sample of samples) {
        expect(typeof sample.time).toBe('string')
        expect(sample.stats.lsn).toBe(changes.at(-1)!.lsn)
        expect(sample.stats.follow).toMatchObject({ following: true })
        expect(sample.stats.readers).toContainEqual(
          expect.objectContaining({ pid: watch.child.pid, thread: 0, live: true }),
        )
        expect(sample.disk.files).toBeGreaterThan(0)
      }
    } finally {
      expect(await writer.stop()).toBe(0)
    }
  })

  it('refuses --interval without --watch (ERR_USAGE, exit 2)', async () => {
    const res = await cli(['stat', tempDir(), '--interval', '100'])
    expect(res.code).toBe(2)
    expect(res.stderr).toMatch(/^alexstorage: ERR_USAGE: --interval needs --watch/)
  })
})

describe('alexstorage stat lists the readers', () => {
  it('shows a tail in another process as a reader, and no reader once it stopped', async () => {
    const dir = join(tempDir(), 'db')
    const writer = await startLiveWriter(dir)
    try {
      await writer.write(3)
      const tail = startCli(['tail', dir])
      await tail.until((_, err) => err.includes('following'))
      const json = JSON.parse((await cli(['stat', dir, '--json'])).stdout)
      expect(json.stats.readers).toEqual([
        expect.objectContaining({ pid: tail.child.pid, thread: 0, live: true }),
      ])
      expect(json.stats.readers[0].lagLsn).toBeGreaterThanOrEqual(0)
      const text = await cli(['stat', dir])
      expect(text.stdout).toMatch(/^readers\s+1$/m)
      expect(text.stdout).toMatch(
        new RegExp(
          `^reader\\s+pid ${tail.child.pid} thread 0: at LSN \\d+, lag \\d+ LSNs / \\d+ ms$`,
          'm',
        ),
      )
      expect(text.stdout).not.toMatch(/^follow /m) // a one-shot stat is frozen at its open

      tail.child.kill('SIGINT')
      expect((await tail.exited).code).toBe(0)
      // Its close removed its registration.
      const after = JSON.parse((await cli(['stat', dir, '--json'])).stdout)
      expect(after.stats.readers).toEqual([])
      expect((await cli(['stat', dir])).stdout).toMatch(/^readers\s+none$/m)
    } finally {
      expect(await writer.stop()).toBe(0)
    }
  })
})
