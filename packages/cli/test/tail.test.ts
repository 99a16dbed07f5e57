import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  cli,
  makeStore,
  parseLines,
  removeTempDirs,
  startCli,
  startLiveWriter,
  tempDir,
  type WrittenChange,
} from './helpers.js'

afterAll(removeTempDirs)

const lineCount = (text: string) => text.split('\n').length - 1

describe('alexstorage tail against a writer in another process', () => {
  it('prints exactly the writer’s changes as they happen, then stops on SIGINT (exit 0)', async () => {
    const dir = join(tempDir(), 'db')
    const writer = await startLiveWriter(dir)
    try {
      const before = await writer.write(20) // history before tail: not printed by default
      const nowLsn = before.at(-1)!.lsn
      const tail = startCli(['tail', dir])
      await tail.until((_, err) => err.includes('following'))
      expect(tail.stderr()).toContain(`after LSN ${nowLsn} (Ctrl-C to stop)`)
      const expected: WrittenChange[] = []
      for (let round = 0; round < 4; round++) {
        // Each round is written only once tail printed the one before: it follows live.
        expected.push(...(await writer.write(25)))
        await tail.until((out) => lineCount(out) >= expected.length)
      }
      expect(expected.some((c) => c.type === 'delete')).toBe(true)
      tail.child.kill('SIGINT')
      expect(await tail.exited).toEqual({ code: 0, signal: null })
      expect(parseLines(tail.stdout())).toEqual(expected)
      const last = expected.at(-1)!.lsn
      expect(tail.stderr()).toContain(`stopped after LSN ${last} (resume with --since ${last})`)
      expect(tail.stderr()).not.toContain('alexstorage: ERR')
    } finally {
      expect(await writer.stop()).toBe(0)
    }
  })

  it('--since resumes after the last printed LSN: no gap, no duplicate (--limit and SIGINT)', async () => {
    const dir = join(tempDir(), 'db')
    const writer = await startLiveWriter(dir)
    try {
      const all = await writer.write(60)
      const first = await cli(['tail', dir, '--since', String(writer.startLsn), '--limit', '25'])
      expect(first.code).toBe(0)
      const part1 = parseLines(first.stdout) as WrittenChange[]
      expect(part1).toHaveLength(25)
      const resumeAt = part1.at(-1)!.lsn
      expect(first.stderr).toContain(`resume with --since ${resumeAt}`)

      // The rest of the backlog, then live changes, until SIGINT.
      const second = startCli(['tail', dir, '--since', String(resumeAt), '--quiet'])
      const backlog = all.filter((c) => c.lsn > resumeAt).length
      await second.until((out) => lineCount(out) >= backlog)
      all.push(...(await writer.write(15)))
      await second.until((out) => lineCount(out) >= all.length - 25)
      second.child.kill('SIGINT')
      expect(await second.exited).toEqual({ code: 0, signal: null })
      expect(second.stderr()).toBe('') // --quiet: no start or stop line
      const part2 = parseLines(second.stdout()) as WrittenChange[]

      // Once more from the end of the second part: only what was written after it.
      const resumeAgain = part2.at(-1)!.lsn
      const more = await writer.write(5)
      all.push(...more)
      const limit = String(more.length)
      const third = await cli(['tail', dir, '--since', String(resumeAgain), '--limit', limit])
      expect(third.code).toBe(0)
      const part3 = parseLines(third.stdout)

      expect([...part1, ...part2, ...part3]).toEqual(all)
      const lsns = [...part1, ...part2, ...(part3 as WrittenChange[])].map((c) => c.lsn)
      expect(new Set(lsns).size).toBe(lsns.length)
    } finally {
      expect(await writer.stop()).toBe(0)
    }
  })
})

describe('alexstorage tail', () => {
  it('names the oldest LSN the log holds when --since was trimmed (ERR_LSN_TRIMMED, exit 1)', async () => {
    const dir = join(tempDir(), 'db')
    await makeStore(
      dir,
      Array.from({ length: 100 }, (_, i) => i),
    ) // closed: its checkpoint let the log go
    const res = await cli(['tail', dir, '--since', '0', '--quiet'])
    expect(res.code).toBe(1)
    expect(res.stdout).toBe('')
    expect(res.stderr).toMatch(
      /^alexstorage: ERR_LSN_TRIMMED: the log of .* no longer holds the changes after LSN 0: the oldest LSN it holds is 101 .*--since 100/,
    )
    expect(res.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('prints the backlog of a store no writer has open, up to --limit', async () => {
    const dir = join(tempDir(), 'db')
    const writer = await startLiveWriter(dir)
    const written = await writer.write(12)
    // The writer's close checkpoints: read the log while it is still open, then after it closed.
    const limit = String(written.length)
    const res = await cli(['tail', dir, '--since', String(writer.startLsn), '--limit', limit])
    expect(await writer.stop()).toBe(0)
    expect(res.code).toBe(0)
    expect(parseLines(res.stdout)).toEqual(written)
    const after = await cli(['tail', dir, '--limit', '0'])
    expect(after.code).toBe(0)
    expect(after.stdout).toBe('')
    expect(after.stderr).toContain(`after LSN ${written.at(-1)!.lsn}`)
  })

  it('refuses a --since ahead of the store (exit 2) and a directory that is not a store', async () => {
    const dir = join(tempDir(), 'db')
    await makeStore(dir, [1, 2, 3])
    const ahead = await cli(['tail', dir, '--since', '999', '--quiet'])
    expect(ahead.code).toBe(2)
    expect(ahead.stderr).toMatch(/^alexstorage: ERR_INVALID_ARGUMENT: since 999 is ahead/)
    const missing = await cli(['tail', join(dir, 'nope')])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/^alexstorage: ERR_NOT_A_STORE: /)
  })
})
