import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli, makeStore, readAll, removeTempDirs, tempDir } from './helpers.js'

afterAll(removeTempDirs)

describe('alexstorage dump and load', () => {
  let source: string
  // Keys of every kind a number can be: negative, fractional, large.
  const keys = [
    -1e300,
    -5,
    -0.5,
    ...Array.from({ length: 2500 }, (_, i) => i),
    2 ** 52 + 1,
    Math.PI,
    1e300,
  ]
  beforeAll(async () => {
    source = join(tempDir(), 'source')
    await makeStore(source, keys)
  })

  it('round-trips every entry through NDJSON', async () => {
    const file = join(tempDir(), 'dump.ndjson')
    const dumped = await cli(['dump', source, '--out', file])
    expect(dumped.code).toBe(0)
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n')
    expect(lines).toHaveLength(keys.length)
    expect(JSON.parse(lines[0]!)).toEqual({ key: -1e300, value: expect.any(String) })
    const target = join(tempDir(), 'target')
    const loaded = await cli(['load', target, file, '--batch', '700'])
    expect(loaded.code).toBe(0)
    expect(loaded.stdout).toContain(`loaded ${keys.length} entries`)
    expect(await readAll(target)).toEqual(await readAll(source))
  })

  it('dumps a range (and reverse, limit) to stdout; loading it gives just that range', async () => {
    const dumped = await cli(['dump', source, '--range', 'gte=100,lt=200'])
    expect(dumped.code).toBe(0)
    const target = join(tempDir(), 'range')
    const loaded = await cli(['load', target, '-'], dumped.stdout)
    expect(loaded.code).toBe(0)
    const all = await readAll(source)
    expect(await readAll(target)).toEqual(all.filter(([key]) => key >= 100 && key < 200))
    const reverse = await cli(['dump', source, '--range', 'gt=10', '--reverse', '--limit', '3'])
    expect(reverse.stderr).toBe('')
    expect(reverse.code).toBe(0)
    const got = reverse.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line).key)
    expect(got).toEqual([1e300, 2 ** 52 + 1, 2499])
  })

  it('stops at a bad line: exit 1, its line number, that batch not written', async () => {
    const lines = Array.from({ length: 30 }, (_, key) => `{"key":${key},"value":"AAEC"}`)
    lines[26] = '{"key":26,"value":"not base64!"}' // line 27
    const file = join(tempDir(), 'bad.ndjson')
    writeFileSync(file, lines.join('\n'))
    const target = join(tempDir(), 'bad')
    const res = await cli(['load', target, file, '--batch', '10'])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(
      /^alexstorage: ERR_BAD_INPUT: .*bad\.ndjson:27: "value" must be a base64 string/,
    )
    expect(res.stderr).toContain('lines 21-27 was not written')
    expect(res.stderr.trim().split('\n')).toHaveLength(1)
    // Lines 1-20 (two batches) are in; 21-26 of the refused batch are not.
    expect((await readAll(target)).map(([key]) => key)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    )
  })

  it('names the line of invalid JSON and of a bad key', async () => {
    const target = join(tempDir(), 'bad2')
    const notJson = await cli(['load', target, '-'], '{"key":1,"value":"AA=="}\n{oops\n')
    expect(notJson.code).toBe(1)
    expect(notJson.stderr).toContain('stdin:2: not valid JSON')
    const badKey = await cli(['load', target, '-'], '{"key":"1","value":"AA=="}\n')
    expect(badKey.code).toBe(1)
    expect(badKey.stderr).toContain('stdin:1: "key" must be a finite number')
    expect(await readAll(target)).toEqual([])
  })
})
