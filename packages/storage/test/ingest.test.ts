import { tempDir, valueFor } from '@alex/test-support'
import { afterEach, describe, expect, it } from 'vitest'
import { AlexStorage } from '../src/index.js'

const cleanups: Array<() => void> = []
afterEach(() => {
  for (const c of cleanups.splice(0)) c()
})
function dir(): string {
  const t = tempDir('alex-ingest-')
  cleanups.push(t.cleanup)
  return t.dir
}

describe('ingest: smoke', () => {
  it('ingests into an empty store and reopens', async () => {
    const d = dir()
    const db = await AlexStorage.open(d)
    const keys = Array.from({ length: 5000 }, (_, i) => i * 2)
    const values = keys.map((k) => valueFor(k, 1, 100))
    const r = await db.ingest({ keys, values })
    expect(r.count).toBe(5000)
    expect(db.size).toBe(5000)
    expect(db.get(10)).toEqual(valueFor(10, 1, 100))
    await db.put(1, new Uint8Array([1]))
    await db.close()
    const again = await AlexStorage.open(d)
    expect(again.size).toBe(5001)
    expect(again.get(9998)).toEqual(valueFor(9998, 1, 100))
    expect(again.version(1)).toBe(r.lastLsn + 1)
    await again.close()
  })
})
