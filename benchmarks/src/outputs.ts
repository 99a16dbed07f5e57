/**
 * Where a run writes its outputs. By default everything goes to `benchmarks/out/` (git-ignored),
 * so a first `pnpm bench` never dirties the checkout nor replaces the published figures; only
 * `--publish` writes docs/benchmarks.md (between its markers), docs/charts/ and
 * benchmarks/results/<date>-<scale>.json.
 */
import { join, resolve } from 'node:path'
import { formatScale } from './args.js'
import { OWN_SECTION_WORKLOADS } from './results.js'

/** Where one run writes. */
export interface Outputs {
  /** JSON results. */
  readonly json: string
  /** Markdown report: the shared docs file (`shared`, only its marked section is replaced) or a standalone file. */
  readonly report: string
  readonly shared: boolean
  readonly charts: string
  /** True when the outputs are the published, tracked files. */
  readonly published: boolean
}

/** What decides the outputs. */
export interface OutputChoice {
  readonly out: string | undefined
  readonly json: string | undefined
  readonly quick: boolean
  readonly publish: boolean
  readonly scale: number
  /** The run's workloads: a run of only the readers workload publishes as `<date>-<scale>-readers.json`. */
  readonly workloads?: readonly string[]
}

/** Whether the run measured only workloads with a section of their own (the readers). */
function readersOnly(choice: OutputChoice): boolean {
  const w = choice.workloads
  return w !== undefined && w.length > 0 && w.every((id) => OWN_SECTION_WORKLOADS.has(id))
}

/** The default output directory of the bench (git-ignored). */
export function defaultOutDir(packageDir: string): string {
  return join(packageDir, 'out')
}

/** The outputs of a run started at ISO `date`; `packageDir` is benchmarks/, `repoDir` its parent. */
export function outputsFor(
  choice: OutputChoice,
  date: string,
  packageDir: string,
  repoDir: string,
): Outputs {
  if (choice.publish) {
    return {
      json:
        choice.json !== undefined
          ? resolve(choice.json)
          : join(
              packageDir,
              'results',
              `${date.slice(0, 10)}-${formatScale(choice.scale)}${readersOnly(choice) ? '-readers' : ''}.json`,
            ),
      report: join(repoDir, 'docs', 'benchmarks.md'),
      shared: true,
      charts: join(repoDir, 'docs', 'charts'),
      published: true,
    }
  }
  const outDir =
    choice.out !== undefined
      ? resolve(choice.out)
      : choice.quick
        ? join(defaultOutDir(packageDir), 'quick')
        : defaultOutDir(packageDir)
  return {
    json: choice.json !== undefined ? resolve(choice.json) : join(outDir, 'results.json'),
    report: join(outDir, 'benchmarks.md'),
    shared: false,
    charts: join(outDir, 'charts'),
    published: false,
  }
}
