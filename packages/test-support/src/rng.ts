/**
 * The tests' seeded PRNG (xorshift32): floats in [0, 1), the same sequence for the same seed in
 * every package and every run, so a failing seed can be replayed. Seed 0 is taken as 1 (xorshift
 * has no zero state).
 */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 4294967296
  }
}
