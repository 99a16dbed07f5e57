import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AlexStorage } from '@alex/storage'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli, hashDir, makeStore, removeTempDirs, tempDir, textValueFor } from './helpers.js'

afterAll(removeTempDirs)

describe('alexstorage --help', () => {
  it('shows an example on every command', async () => {
    const commands = ['', 'stat', 'check', 'dump', 'load', 'compact', 'backup', 'tail']
    const results = await Promise.all(
      commands.map((command) => cli(command === '' ? ['--help'] : [command, '--help'])),
    )
    for (const [i, res] of results.entries()) {
      expect(res.code).toBe(0)
      expect(res.stdout).toContain('Example:')
      expect(res.stdout).toContain(`$ alexstorage ${commands[i]}`)
    }
  })

  it('documents the exit codes', async () => {
    const res = await cli(['check', '--help'])
    expect(res.stdout).toMatch(/Exit codes: 0 clean, 1 damaged .*, 2 unusable/)
  })

  it('reports a usage error in one line with a code and exit code 2', async () => {
    const res = await cli(['dump'])
    expect(res.code).toBe(2)
    expect(res.stderr).toMatch(/^alexstorage: ERR_USAGE: missing required argument 'dir'/)
    expect(res.stderr.trim().split('\n')).toHaveLength(1)
  })
})

describe('alexstorage stat', () => {
  let dir: string
  beforeAll(async () => {
    dir = join(tempDir(), 'db')
    const db = await AlexStorage.open(dir)
    await db.batch(
      Array.from({ length: 300 }, (_, key) => ({ type: 'put', key, value: textValueFor(key) })),
    )
    await db.batch(Array.from({ length: 100 }, (_, key) => ({ type: 'delete', key })))
    await db.close()
  })

  it('prints a table', async () => {
    const res = await cli(['stat', dir])
    expect(res.code).toBe(0)
    expect(res.stderr).toBe('')
    expect(res.stdout).toMatch(/^keys\s+200$/m)
    expect(res.stdout).toMatch(/^dead bytes\s+.*\(\d+\)/m)
    expect(res.stdout).toMatch(/^LSNs\s+applied 400, checkpoint 400/m)
    expect(res.stdout).toMatch(/^checkpoints\s+1$/m)
    expect(res.stdout).toMatch(/^index\s+height \d+/m)
  })

  it('prints JSON with --json', async () => {
    const res = await cli(['stat', dir, '--json'])
    expect(res.code).toBe(0)
    const out = JSON.parse(res.stdout)
    expect(out.stats.keys).toBe(200)
    expect(out.stats.deadBytes).toBeGreaterThan(0)
    expect(out.stats.segments).toBe(1)
    expect(out.stats.lsn).toBe(400)
    expect(out.stats.index.totalKeys).toBe(200)
    expect(out.recovery.source).toBe('snapshot')
    expect(out.recovery.wal.lastLsn).toBe(400)
    expect(out.disk.files).toBeGreaterThanOrEqual(3)
  })
})

describe('alexstorage check', () => {
  it('passes a clean store without changing a byte (exit 0)', async () => {
    const dir = join(tempDir(), 'db')
    await makeStore(
      dir,
      Array.from({ length: 2000 }, (_, i) => i * 3),
    )
    const before = hashDir(dir)
    const res = await cli(['check', dir])
    expect(res.code).toBe(0)
    expect(res.stdout).toMatch(/^clean: .*: 2000 entries/)
    expect(hashDir(dir)).toBe(before)
    const json = await cli(['check', dir, '--json'])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'clean', entries: 2000, problems: 0 })
    expect(hashDir(dir)).toBe(before)
  })

  it('finds a flipped byte in a data segment record (exit 1, names the file)', async () => {
    const dir = join(tempDir(), 'db')
    await makeStore(
      dir,
      Array.from({ length: 500 }, (_, i) => i),
    )
    const segment = readdirSync(dir).find((name) => name.startsWith('data-'))!
    const file = join(dir, segment)
    const bytes = readFileSync(file)
    const at = bytes.indexOf(Buffer.from(textValueFor(123)))
    expect(at).toBeGreaterThan(0)
    bytes[at + 7]! ^= 0x40
    writeFileSync(file, bytes)
    const before = hashDir(dir)
    const res = await cli(['check', dir])
    expect(res.code).toBe(1)
    expect(res.stdout).toMatch(/^damaged: /)
    expect(res.stdout).toContain(`ERR_CORRUPTION: file ${file} offset`)
    expect(res.stdout).toContain('key 123')
    const json = await cli(['check', dir, '--json'])
    expect(json.code).toBe(1)
    const report = JSON.parse(json.stdout)
    expect(report.status).toBe('damaged')
    expect(report.damage[0]).toMatchObject({ code: 'ERR_CORRUPTION', file, key: 123 })
    expect(report.damage[0].offset).toBeGreaterThan(0)
    expect(hashDir(dir)).toBe(before)
  })

  it('refuses a directory that is not a store (exit 2) and leaves it alone', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'notes.txt'), 'not a store')
    const before = hashDir(dir)
    const res = await cli(['check', dir])
    expect(res.code).toBe(2)
    expect(res.stderr).toMatch(/^alexstorage: ERR_NOT_A_STORE: /)
    expect(res.stderr).not.toContain('    at ')
    expect(hashDir(dir)).toBe(before)
    const json = await cli(['check', dir, '--json'])
    expect(json.code).toBe(2)
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: 'unusable',
      error: { code: 'ERR_NOT_A_STORE' },
    })
    const missing = await cli(['check', join(dir, 'missing')])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/^alexstorage: ERR_NOT_A_STORE: /)
  })
})
