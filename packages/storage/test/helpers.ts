import { tempDir as sharedTempDir } from '@alex/test-support'

/** The shared helpers (one copy each, in @alex/test-support); the store's prefix for temp dirs. */
export { hashDir, rng, valueFor } from '@alex/test-support'

/** A fresh temp directory, removed by the returned cleanup. */
export function tempDir(prefix = 'alex-storage-'): { dir: string; cleanup: () => void } {
  return sharedTempDir(prefix)
}
