/**
 * Command-line flags of the bench CLI. Parsing is strict: an unknown flag or value is an
 * error with the list of what is accepted.
 */
import { type EngineId, engineIds } from '@alex/compare'
import { parseFlags, positiveInt } from '@alex/test-support/bench'
import { DISTRIBUTIONS, type Distribution } from './dataset.js'
import { DEFAULT_WORKLOADS, WORKLOAD_IDS, type WorkloadId } from './workloads.js'

/** Parsed options of one bench run. */
export interface BenchOptions {
  readonly engines: readonly EngineId[]
  readonly workloads: readonly WorkloadId[]
  /** Loaded keys. */
  readonly scale: number
  readonly reps: number
  readonly valueSize: number
  readonly distribution: Distribution
  readonly seed: number
  readonly durability: 'default' | 'durable' | 'fast'
  readonly quick: boolean
  /** Engine the ratio column compares with. */
  readonly baseline: EngineId | string
  /** Output directory (JSON, report, charts); undefined: benchmarks/out (or docs/ with --publish). */
  readonly out: string | undefined
  /** Write the published figures: docs/benchmarks.md, docs/charts, benchmarks/results/*.json. */
  readonly publish: boolean
  /** JSON results path override. */
  readonly json: string | undefined
  /** Write the markdown report and charts. */
  readonly report: boolean
  /** Temp root for the stores. */
  readonly tmp: string | undefined
  readonly help: boolean
  /** Print the plan and the estimate, run nothing. */
  readonly dryRun: boolean
}

/** Scale suffixes: 100k, 1m, 10m, or a plain count. */
export function parseScale(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text.trim())
  if (m === null)
    throw new Error(`--scale: expected a count such as 100k, 1m or 10m, got "${text}"`)
  const unit = m[2]!.toLowerCase()
  const n = Number(m[1]) * (unit === 'k' ? 1e3 : unit === 'm' ? 1e6 : 1)
  if (!Number.isInteger(n) || n < 1000) throw new Error(`--scale: at least 1000 keys, got ${text}`)
  return n
}

/** Formats a key count the way --scale takes it (1000000 -> 1m). */
export function formatScale(n: number): string {
  if (n % 1e6 === 0) return `${n / 1e6}m`
  if (n % 1e3 === 0) return `${n / 1e3}k`
  return String(n)
}

/** Scale of `--quick`: tiny, for CI smoke runs. */
export const QUICK_SCALE = 2000

const HELP = `Usage: pnpm bench [-- flags]

  --engines a,b,...     engines to run (default: all available: ${engineIds.join(', ')})
  --workloads a,b,...   workloads (default: ${DEFAULT_WORKLOADS.join(', ')}); "all" for every one:
                        ${WORKLOAD_IDS.join(', ')}
  --scale N             loaded keys: 100k, 1m (default), 10m, or a count
  --reps N              repetitions per engine, median reported (default 3)
  --value-size N        value bytes (default 128)
  --distribution D      keys: ${DISTRIBUTIONS.join(', ')} (default uniform)
  --durability D        writes of mixed/YCSB/insert workloads: default, durable, fast
  --seed N              data and operation seed (default 1)
  --baseline ENGINE     engine of the ratio column (default alex)
  --quick               smoke run: ${QUICK_SCALE} keys, 1 rep, every engine, every workload,
                        outputs in benchmarks/out/quick unless --out is given
  --out DIR             write results.json, benchmarks.md and charts/ into DIR
                        (default: benchmarks/out, git-ignored)
  --publish             write the published figures instead: docs/benchmarks.md (between its
                        markers), docs/charts/ and benchmarks/results/<date>-<scale>.json
  --json FILE           JSON results path (default: results.json in the output directory)
  --no-report           skip the markdown report and the charts
  --no-build            (pnpm bench only) skip the workspace build before the run
  --dry-run             print the plan, the estimate and the load average; run nothing
  --tmp DIR             where the stores' temp directories go (default: the OS temp dir)
  --help                this text

  report FILE.json      regenerate the report and charts from saved results
`

/** The help text. */
export function helpText(): string {
  return HELP
}

function list<T extends string>(flag: string, text: string, known: readonly T[]): T[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
  if (items.length === 0) throw new Error(`${flag}: empty list`)
  for (const item of items) {
    if (!known.includes(item as T)) {
      throw new Error(`${flag}: unknown "${item}"; known: ${known.join(', ')}`)
    }
  }
  return items as T[]
}

/** Parses argv (without node and script) into options. */
export function parseArgs(argv: readonly string[]): BenchOptions {
  const { values, flags } = parseFlags(argv, {
    valued: [
      '--engines',
      '--workloads',
      '--scale',
      '--reps',
      '--value-size',
      '--distribution',
      '--durability',
      '--seed',
      '--baseline',
      '--out',
      '--json',
      '--tmp',
    ],
    boolean: ['--quick', '--no-report', '--help', '--publish', '--no-build', '--dry-run'],
  })
  const quick = flags.has('--quick')
  const publish = flags.has('--publish')
  if (publish && quick) {
    throw new Error('--publish: a --quick smoke run is not publishable (its figures mean nothing)')
  }
  if (publish && values.has('--out')) {
    throw new Error('--publish writes to docs/ and benchmarks/results/; leave out --out')
  }
  const workloadText = values.get('--workloads')
  const workloads =
    workloadText === 'all' || (quick && workloadText === undefined)
      ? [...WORKLOAD_IDS]
      : workloadText === undefined
        ? [...DEFAULT_WORKLOADS]
        : list('--workloads', workloadText, WORKLOAD_IDS)
  // Run order is the canonical order, whatever order the flag listed.
  const ordered = WORKLOAD_IDS.filter((id) => workloads.includes(id))
  const engineText = values.get('--engines')
  const engines =
    engineText === undefined ? [...engineIds] : list('--engines', engineText, engineIds)
  const durability = values.get('--durability') ?? 'default'
  if (durability !== 'default' && durability !== 'durable' && durability !== 'fast') {
    throw new Error(`--durability: expected default, durable or fast, got "${durability}"`)
  }
  const distribution = values.get('--distribution') ?? 'uniform'
  if (!DISTRIBUTIONS.includes(distribution as Distribution)) {
    throw new Error(`--distribution: expected ${DISTRIBUTIONS.join(', ')}, got "${distribution}"`)
  }
  const scaleText = values.get('--scale')
  return {
    engines,
    workloads: ordered,
    scale: scaleText !== undefined ? parseScale(scaleText) : quick ? QUICK_SCALE : 1_000_000,
    reps: values.has('--reps') ? positiveInt('--reps', values.get('--reps')!) : quick ? 1 : 3,
    valueSize: values.has('--value-size')
      ? positiveInt('--value-size', values.get('--value-size')!)
      : 128,
    distribution: distribution as Distribution,
    seed: values.has('--seed') ? positiveInt('--seed', values.get('--seed')!) : 1,
    durability,
    quick,
    baseline: values.get('--baseline') ?? 'alex',
    out: values.get('--out'),
    publish,
    json: values.get('--json'),
    report: !flags.has('--no-report'),
    tmp: values.get('--tmp'),
    help: flags.has('--help'),
    dryRun: flags.has('--dry-run'),
  }
}
