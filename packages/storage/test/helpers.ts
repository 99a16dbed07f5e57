import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A fresh temp directory, removed by the returned cleanup. */
export function tempDir(prefix = 'alex-storage-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Deterministic bytes for (key, version): a value whose every byte can be re-derived. */
export function valueFor(key: number, version: number, length: number): Uint8Array {
  const v = new Uint8Array(length)
  let x = (Math.imul(key | 0, 0x9e3779b1) ^ Math.imul(version | 0, 0x85ebca6b) ^ length) >>> 0
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    v[i] = x & 0xff
  }
  return v
}

/** Small deterministic PRNG (xorshift32) for tests that must replay the same choices. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 4294967296
  }
}

/** Every file's name and bytes (sub-directories included), as one digest. */
export function hashDir(dir: string): string {
  const h = createHash('sha256')
  const walk = (d: string, prefix: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p, `${prefix}${name}/`)
      else h.update(`${prefix}${name}\0`).update(readFileSync(p)).update('\0')
    }
  }
  walk(dir, '')
  return h.digest('hex')
}
