import { describe, expect, it } from 'vitest'
import { type SoakRoundResult, soakRound } from './power-cut-soak-round.js'

/**
 * Randomized power-cut soak, bounded for CI: `ALEX_SOAK_ROUNDS` rounds (default 150, a few
 * seconds), starting at seed `ALEX_SOAK_SEED` (default 1). For long soaks run
 * `pnpm --filter @alex/wal soak` (scripts/power-cut-soak.ts).
 */
const ROUNDS = Number(process.env.ALEX_SOAK_ROUNDS ?? 150)
const FIRST_SEED = Number(process.env.ALEX_SOAK_SEED ?? 1)

describe('power-cut soak (random workloads, random cut points, out-of-order sectors)', () => {
  it('the default recovery mode opens every survivor, losing no acknowledged write', async () => {
    expect(Number.isSafeInteger(ROUNDS) && ROUNDS > 0).toBe(true)
    const results: SoakRoundResult[] = []
    for (let seed = FIRST_SEED; seed < FIRST_SEED + ROUNDS; seed++) {
      results.push(await soakRound(seed)) // throws SoakFailure (with its seed) on any violation
    }
    // The soak reaches the cases it is about: out-of-order cuts that tear an unsynced tail
    // while acknowledged writes exist, in both sync modes.
    const sectors = results.filter((r) => r.mode === 'sectors')
    expect(sectors.length).toBeGreaterThan(ROUNDS / 4)
    expect(sectors.filter((r) => r.tornTail && r.acknowledged > 0).length).toBeGreaterThan(0)
    expect(new Set(results.map((r) => r.sync))).toEqual(new Set(['always', 'none']))
    expect(results.filter((r) => r.cutAt <= r.totalOps).length).toBeGreaterThan(ROUNDS / 2)
  })
})
