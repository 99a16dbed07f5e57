/**
 * Long-running power-cut soak of the store: runs the rounds of test/power-cut-soak-round.ts
 * (random workloads of writes, batches, syncs, checkpoints, compactions and reopens; power cut at
 * a random file operation; unsynced bytes kept in a random mode, half the rounds out-of-order
 * sectors) until a round fails or the limits are reached. Exit status 1 on the first failure,
 * whose seed reproduces it (`ALEX_STORE_SOAK_SEED=<seed> ALEX_STORE_SOAK_ROUNDS=1 vitest run
 * test/power-cut-soak.test.ts`).
 *
 *   tsx scripts/power-cut-soak.ts [--rounds N] [--seconds S] [--seed FIRST]
 */
import { StoreSoakFailure, storeSoakRound } from '../test/power-cut-soak-round.js'

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  if (i < 0) return fallback
  const value = Number(process.argv[i + 1])
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} needs a number`)
  return value
}

const rounds = flag('rounds', 100_000)
const seconds = flag('seconds', Number.POSITIVE_INFINITY)
const first = flag('seed', 1)
const start = performance.now()
let done = 0
let sectors = 0
let torn = 0
for (let seed = first; seed < first + rounds; seed++) {
  if ((performance.now() - start) / 1000 >= seconds) break
  try {
    const r = await storeSoakRound(seed)
    done++
    if (r.mode === 'sectors') sectors++
    if (r.tornTail) torn++
  } catch (err) {
    if (!(err instanceof StoreSoakFailure)) throw err
    console.error(`FAILED after ${done} rounds: ${err.message}`)
    process.exit(1)
  }
  if (done % 500 === 0)
    console.error(`${done} rounds, ${sectors} out-of-order cuts, ${torn} torn tails`)
}
const secs = ((performance.now() - start) / 1000).toFixed(1)
console.log(`${done} rounds passed in ${secs} s (${sectors} out-of-order cuts, ${torn} torn tails)`)
