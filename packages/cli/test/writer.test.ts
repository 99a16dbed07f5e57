import { join } from 'node:path'
import { AlexStorage } from '@alex/storage'
import { afterAll, describe, expect, it } from 'vitest'
import { cli, removeTempDirs, startWriter, tempDir, textValueFor } from './helpers.js'

afterAll(removeTempDirs)

describe('alexstorage compact', () => {
  it('reclaims dead bytes', async () => {
    const dir = join(tempDir(), 'db')
    const db = await AlexStorage.open(dir, { autoCompaction: false })
    for (let round = 0; round < 3; round++) {
      await db.batch(
        Array.from({ length: 400 }, (_, key) => ({
          type: 'put',
          key,
          value: textValueFor(key + round),
        })),
      )
    }
    await db.close()
    const before = JSON.parse((await cli(['stat', dir, '--json'])).stdout).stats
    expect(before.deadBytes).toBeGreaterThan(0)
    const res = await cli(['compact', dir])
    expect(res.code).toBe(0)
    expect(res.stdout).toMatch(new RegExp(`dead bytes +.*\\(${before.deadBytes}\\) -> .*\\(0\\)`))
    const after = JSON.parse((await cli(['stat', dir, '--json'])).stdout).stats
    expect(after.deadBytes).toBeLessThan(before.deadBytes)
    expect(after.deadBytes).toBe(0)
    expect(after.keys).toBe(400)
    expect(after.compactions).toBe(before.compactions + 1)
  })

  it('refuses a directory that is not a store and creates nothing', async () => {
    const dir = join(tempDir(), 'missing')
    const res = await cli(['compact', dir])
    expect(res.code).toBe(2)
    expect(res.stderr).toMatch(/^alexstorage: ERR_NOT_A_STORE: /)
  })
})

describe('a store held open by a live writer in another process', () => {
  it('can be read by stat, check and dump; compact fails with ERR_LOCKED', async () => {
    const dir = join(tempDir(), 'db')
    const writer = await startWriter(dir, 300)
    try {
      const stat = await cli(['stat', dir, '--json'])
      expect(stat.code).toBe(0)
      expect(JSON.parse(stat.stdout).stats.keys).toBe(300)

      // (Not hashed here: the writer may legitimately write meanwhile; see inspect.test.ts.)
      const check = await cli(['check', dir])
      expect(check.stderr).toBe('')
      expect(check.code).toBe(0)
      expect(check.stdout).toMatch(/^clean: .*: 300 entries/)

      const dump = await cli(['dump', dir, '--limit', '2'])
      expect(dump.code).toBe(0)
      expect(dump.stdout).toBe(
        `{"key":0,"value":"${Buffer.from('writer-0').toString('base64')}"}\n{"key":1,"value":"${Buffer.from('writer-1').toString('base64')}"}\n`,
      )

      const compact = await cli(['compact', dir])
      expect(compact.code).toBe(2)
      expect(compact.stderr).toMatch(/^alexstorage: ERR_LOCKED: /)
      expect(compact.stderr.trim().split('\n')).toHaveLength(1)
      expect(compact.stderr).not.toMatch(/^\s+at /m)

      const debug = await cli(['compact', dir, '--debug'])
      expect(debug.code).toBe(2)
      expect(debug.stderr).toMatch(/^alexstorage: ERR_LOCKED: /)
      expect(debug.stderr).toMatch(/^\s+at /m)
    } finally {
      expect(await writer.stop()).toBe(0)
    }
  })
})
