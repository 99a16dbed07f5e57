/**
 * The bench CLI: `pnpm bench [-- flags]` (see --help). Runs the workloads on every selected
 * engine, prints the table, writes the JSON results, the markdown report and the SVG charts.
 * `report FILE.json` re-renders the report and charts from saved results.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { getEngine } from '@alex/compare'
import { type BenchOptions, formatScale, helpText, parseArgs } from './args.js'
import { renderCharts } from './charts.js'
import { formatNs } from './format.js'
import { probeFsyncNs } from './fsync-probe.js'
import { describeMachine } from './machine.js'
import { RunFailed, runAll } from './orchestrate.js'
import { createProgress } from './progress.js'
import { renderReport, replaceBetweenMarkers, standaloneReport } from './report.js'
import { aggregate, type BenchResults, RESULTS_FORMAT, suspiciousDurability } from './results.js'
import { renderTable } from './table.js'
import { workloadById } from './workloads.js'

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))
const REPO_DIR = resolve(PACKAGE_DIR, '..')

/** Where a run writes its outputs. */
interface Outputs {
  readonly json: string
  /** Markdown file, and whether it is the shared docs file (markers) or a standalone one. */
  readonly report: string
  readonly shared: boolean
  readonly charts: string
}

function outputsFor(options: BenchOptions, date: string): Outputs {
  const outDir =
    options.out !== undefined
      ? resolve(options.out)
      : options.quick
        ? join(PACKAGE_DIR, 'results', 'tmp')
        : undefined
  if (outDir !== undefined) {
    return {
      json: options.json !== undefined ? resolve(options.json) : join(outDir, 'results.json'),
      report: join(outDir, 'benchmarks.md'),
      shared: false,
      charts: join(outDir, 'charts'),
    }
  }
  return {
    json:
      options.json !== undefined
        ? resolve(options.json)
        : join(PACKAGE_DIR, 'results', `${date.slice(0, 10)}-${formatScale(options.scale)}.json`),
    report: join(REPO_DIR, 'docs', 'benchmarks.md'),
    shared: true,
    charts: join(REPO_DIR, 'docs', 'charts'),
  }
}

function writeReport(results: BenchResults, outputs: Outputs): void {
  const chartsRel = relative(dirname(outputs.report), outputs.charts) || '.'
  const section = renderReport(results, chartsRel.split('\\').join('/'))
  mkdirSync(outputs.charts, { recursive: true })
  for (const [file, svg] of renderCharts(results)) writeFileSync(join(outputs.charts, file), svg)
  if (outputs.shared) {
    const doc = readFileSync(outputs.report, 'utf8')
    writeFileSync(outputs.report, replaceBetweenMarkers(doc, section))
  } else {
    mkdirSync(dirname(outputs.report), { recursive: true })
    writeFileSync(outputs.report, standaloneReport(section))
  }
  console.log(`report: ${outputs.report}\ncharts: ${outputs.charts}`)
}

/** The command as the user typed it: the package script, or tsx directly. */
function commandLine(argv: readonly string[]): string {
  const base =
    process.env.npm_lifecycle_event === 'bench'
      ? 'pnpm --filter @alex/benchmarks run bench'
      : 'npx tsx benchmarks/src/cli.ts'
  return [base, ...argv.filter((a) => a !== '--')].join(' ')
}

async function bench(argv: readonly string[]): Promise<number> {
  const options = parseArgs(argv)
  if (options.help) {
    console.log(helpText())
    return 0
  }
  const started = performance.now()
  const date = new Date().toISOString()
  const tmpRoot = options.tmp !== undefined ? resolve(options.tmp) : os.tmpdir()
  mkdirSync(tmpRoot, { recursive: true })
  const outputs = outputsFor(options, date)
  const engines = options.engines.map((id) => getEngine(id))
  console.log(
    `AlexStorage bench: ${engines.map((e) => e.id).join(', ')} x ${options.workloads.join(', ')}; ` +
      `${options.scale.toLocaleString('en-US')} keys, ${options.valueSize}-byte values, ${options.reps} rep(s)`,
  )
  const fsyncBefore = probeFsyncNs(tmpRoot)
  console.log(
    `fdatasync of a 256-byte append on ${tmpRoot}: ${formatNs(fsyncBefore)} (10th percentile of 50)`,
  )
  const progress = createProgress(options.reps * engines.length)
  let collected: Awaited<ReturnType<typeof runAll>>
  try {
    collected = await runAll(options, tmpRoot, progress)
  } catch (err) {
    progress.stop()
    if (err instanceof RunFailed) {
      console.error(
        `\n${'!'.repeat(72)}\nBENCH RUN FAILED${err.correctness ? ': AN ENGINE RETURNED A WRONG VALUE' : ''}\n${err.message}\n${'!'.repeat(72)}`,
      )
      return 1
    }
    throw err
  }
  progress.stop()
  // Probed again after the run; the lower estimate is the device's own cost.
  const fsyncNs = Math.min(fsyncBefore, probeFsyncNs(tmpRoot))
  const results: BenchResults = {
    format: RESULTS_FORMAT,
    date,
    command: commandLine(argv),
    durationSec: (performance.now() - started) / 1e3,
    machine: describeMachine(tmpRoot),
    config: {
      scale: options.scale,
      reps: options.reps,
      valueSize: options.valueSize,
      distribution: options.distribution,
      seed: options.seed,
      durability: options.durability,
      quick: options.quick,
      baseline: options.baseline,
    },
    engines: engines.map((e) => ({
      id: e.id,
      name: e.name,
      version: e.version(),
      durable: e.durability.durable,
      fast: e.durability.fast,
    })),
    workloads: options.workloads.map((id) => {
      const w = workloadById(id)
      return { id, title: w.title, description: w.description, unit: w.unit }
    }),
    fsyncNs,
    harnessNsPerRead: collected.harnessNsPerRead,
    finalVerified: collected.finalVerified,
    correct: true,
    results: aggregate(collected.runs, options.engines, options.workloads, options.baseline),
  }
  console.log(renderTable(results))
  for (const r of suspiciousDurability(results)) {
    console.warn(
      `WARNING: ${r.engine} durable puts take ${formatNs(r.p50)} (p50), under half the disk's fdatasync time: it may not be syncing each write`,
    )
  }
  mkdirSync(dirname(outputs.json), { recursive: true })
  writeFileSync(outputs.json, `${JSON.stringify(results, null, 2)}\n`)
  console.log(`\nresults: ${outputs.json}`)
  if (options.report) writeReport(results, outputs)
  console.log(`done in ${results.durationSec.toFixed(0)} s`)
  return 0
}

function reportOnly(argv: readonly string[]): number {
  const file = argv[0]
  if (file === undefined) throw new Error('report: give the results JSON file')
  const results = JSON.parse(readFileSync(resolve(file), 'utf8')) as BenchResults
  if (results.format !== RESULTS_FORMAT) {
    throw new Error(
      `report: ${file} has results format ${results.format}, expected ${RESULTS_FORMAT}`,
    )
  }
  const rest = parseArgs(argv.slice(1))
  const outputs = outputsFor(
    { ...rest, quick: results.config.quick && rest.out === undefined ? true : rest.quick },
    results.date,
  )
  console.log(renderTable(results))
  writeReport(results, outputs)
  return 0
}

const argv = process.argv.slice(2)
const main = argv[0] === 'report' ? async () => reportOnly(argv.slice(1)) : () => bench(argv)
main().then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err)
    process.exitCode = 1
  },
)
