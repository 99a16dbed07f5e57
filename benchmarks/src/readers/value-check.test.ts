import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Dataset } from '../dataset.js'
import { ValueCheck, writeVersions } from './value-check.js'
import { WritePlan } from './writer.js'

const dir = mkdtempSync(join(tmpdir(), 'alex-readers-check-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const shape = { loaded: 500, randomInserts: 20, sequentialInserts: 10 }

describe('ValueCheck', () => {
  it('rebuilds the same data set from its recipe and accepts the starting version or the next `extra`', () => {
    const ds = new Dataset(7, 'uniform', shape, 64)
    const version = new Uint32Array(ds.keys.length)
    for (let i = 0; i < version.length; i++) version[i] = 1 + (i % 3)
    const file = join(dir, 'versions')
    writeVersions(file, version, shape.loaded)
    const check = ValueCheck.fromRecipe({
      seed: 7,
      distribution: 'uniform',
      shape,
      valueSize: 64,
      versionsFile: file,
      extra: 2,
    })
    expect(check.count).toBe(shape.loaded)
    expect([...check.ds.keys]).toEqual([...ds.keys])
    for (const k of [0, 1, 2, 499]) {
      const v0 = version[k]!
      expect(check.ok(ds.value(k, v0), k)).toBe(true)
      expect(check.ok(ds.value(k, v0 + 1), k)).toBe(true)
      expect(check.ok(ds.value(k, v0 + 2), k)).toBe(true)
      // Too new, too old, another key's value, a torn value, nothing.
      expect(check.ok(ds.value(k, v0 + 3), k)).toBe(false)
      if (v0 > 1) expect(check.ok(ds.value(k, v0 - 1), k)).toBe(false)
      expect(check.ok(ds.value(k + 1, v0), k)).toBe(false)
      expect(check.ok(ds.value(k, v0).subarray(0, 63), k)).toBe(false)
      expect(check.ok(undefined, k)).toBe(false)
    }
  })
})

describe('WritePlan', () => {
  it('writes every key once before any twice, and allows versions up to ceil(limit / n) ahead', () => {
    const plan = new WritePlan(100, 3, 250)
    expect(plan.extraVersions).toBe(3)
    const first = new Set<number>()
    for (let i = 0; i < 100; i++) first.add(plan.next())
    expect(first.size).toBe(100)
    expect(Math.min(...first)).toBe(0)
    expect(Math.max(...first)).toBe(99)
    for (let i = 100; i < 250; i++) plan.next()
    expect(() => plan.next()).toThrow(/250 writes/)
  })
})
