import { mkdtempSync, rmSync } from 'node:fs'
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
