import { describe, expect, it } from 'vitest'
import { type StoreSoakResult, storeSoakRound } from './power-cut-soak-round.js'

/**
 * The store's randomized power-cut soak, bounded for CI: `ALEX_STORE_SOAK_ROUNDS` rounds
 * (default 40), starting at seed `ALEX_STORE_SOAK_SEED` (default 1). For long soaks run
 * `pnpm --filter @alex/storage soak` (scripts/power-cut-soak.ts).
 */
const ROUNDS = Number(process.env.ALEX_STORE_SOAK_ROUNDS ?? 40)
const FIRST_SEED = Number(process.env.ALEX_STORE_SOAK_SEED ?? 1)

describe('store power-cut soak (random workloads, random cut points, out-of-order sectors)', () => {
  it('the default recovery mode opens every survivor, losing no acknowledged write', async () => {
    expect(Number.isSafeInteger(ROUNDS) && ROUNDS > 0).toBe(true)
    const results: StoreSoakResult[] = []
    for (let seed = FIRST_SEED; seed < FIRST_SEED + ROUNDS; seed++) {
      results.push(await storeSoakRound(seed)) // throws StoreSoakFailure (with its seed)
    }
    // Which seeds tear a tail depends on how many file operations a workload makes (a change to
    // the write path moves every cut point): go on, up to three times as many rounds, until one
    // does, rather than tune the seed range. About one round in six tears a tail.
    for (let seed = FIRST_SEED + ROUNDS; seed < FIRST_SEED + 4 * ROUNDS; seed++) {
      if (results.some((r) => r.tornTail)) break
      results.push(await storeSoakRound(seed))
    }
    // The soak reaches what it is about: out-of-order cuts with acknowledged writes, cuts that
    // tear a tail, both sync modes, and cuts inside the workload (not only after it).
    expect(results.filter((r) => r.mode === 'sectors').length).toBeGreaterThan(ROUNDS / 4)
    expect(
      results.filter((r) => r.mode === 'sectors' && r.acknowledged > 0).length,
    ).toBeGreaterThan(0)
    expect(results.some((r) => r.tornTail)).toBe(true)
    expect(new Set(results.map((r) => r.sync))).toEqual(new Set(['always', 'none']))
    expect(results.filter((r) => r.cutAt <= r.totalOps).length).toBeGreaterThan(ROUNDS / 2)
  }, 600_000)
})
