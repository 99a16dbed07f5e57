/**
 * The bench CLI: `pnpm bench [-- flags]` (see --help). Runs the workloads on every selected
 * engine, prints the table, writes the JSON results, the markdown report and the SVG charts.
 * `report FILE.json` re-renders the report and charts from saved results.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { getEngine } from '@alex/compare'
import { helpText, parseArgs } from './args.js'
import { renderCharts } from './charts.js'
import { estimateRun, formatDuration, loadFactor, loadResults, pickHistory } from './estimate.js'
import { type EngineFootprint, medianFootprint } from './footprint.js'
import { formatNs, formatSpread } from './format.js'
import { probeFsyncNs } from './fsync-probe.js'
import { describeMachine } from './machine.js'
import { RunFailed, runAll } from './orchestrate.js'
import { defaultOutDir, type Outputs, outputsFor } from './outputs.js'
import { createProgress } from './progress.js'
import { renderReadersChart } from './readers/readers-chart.js'
import {
  READERS_BEGIN,
  READERS_END,
  renderReadersReport,
  renderReadersText,
} from './readers/readers-report.js'
import { renderReport, replaceBetweenMarkers, standaloneReport } from './report.js'
import {
  aggregate,
  type BenchResults,
  meanAboveP99,
  RESULTS_FORMAT,
  SPREAD_WARN,
  suspiciousDurability,
  WIDE_LIST_MAX,
  wideSpreads,
  widestFirst,
  withoutOwnSections,
} from './results.js'
import { renderTable } from './table.js'
import { workloadById } from './workloads.js'

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))
const REPO_DIR = resolve(PACKAGE_DIR, '..')

function writeReport(results: BenchResults, outputs: Outputs): void {
  const chartsRel = relative(dirname(outputs.report), outputs.charts) || '.'
  const readme = relative(dirname(outputs.report), join(PACKAGE_DIR, 'README.md'))
  const charts = chartsRel.split('\\').join('/')
  const section = renderReport(results, charts, readme.split('\\').join('/'))
  const readers = renderReadersReport(results, charts)
  mkdirSync(outputs.charts, { recursive: true })
  for (const [file, svg] of renderCharts(results)) writeFileSync(join(outputs.charts, file), svg)
  const readersChart = renderReadersChart(results)
  if (readersChart !== undefined) writeFileSync(join(outputs.charts, 'readers.svg'), readersChart)
  if (outputs.shared) {
    // Each section is replaced only by a run that measured it: a readers-only run leaves the
    // engines' section as it was, and the other way round.
    let doc = readFileSync(outputs.report, 'utf8')
    if (withoutOwnSections(results).workloads.length > 0) doc = replaceBetweenMarkers(doc, section)
    if (readers !== '') doc = replaceBetweenMarkers(doc, readers, READERS_BEGIN, READERS_END)
    writeFileSync(outputs.report, doc)
  } else {
    mkdirSync(dirname(outputs.report), { recursive: true })
    writeFileSync(outputs.report, standaloneReport(section, readers))
  }
  console.log(`report: ${outputs.report}\ncharts: ${outputs.charts}`)
}

/** Paths relative to the repository, for messages. */
function rel(path: string): string {
  const r = relative(REPO_DIR, path)
  return r.startsWith('..') || isAbsolute(r) ? path : r || '.'
}

function where(outputs: Outputs): string {
  return outputs.published
    ? `--publish: the published figures will be replaced (${rel(outputs.report)}, ${rel(outputs.charts)}/, ${rel(outputs.json)})`
    : `results go to ${rel(dirname(outputs.json))}/ (not tracked; add --publish to update docs/benchmarks.md)`
}

function loadavg(): number[] {
  return os.loadavg().map((x) => Math.round(x * 100) / 100)
}

/** Prints the warnings a reader of the terminal must not miss (the readers section has none). */
function printWarnings(all: BenchResults): void {
  const results = withoutOwnSections(all)
  const names = new Map(results.engines.map((e) => [e.id, e.name]))
  const wide = wideSpreads(results)
  if (wide.length > 0) {
    console.warn(
      `\nWARNING: ${wide.length} figure(s) vary by more than ±${SPREAD_WARN * 100}% between repetitions; their medians are not stable:`,
    )
    const listed = widestFirst(wide).slice(0, WIDE_LIST_MAX)
    for (const r of listed) {
      console.warn(
        `  ${(names.get(r.engine) ?? r.engine).padEnd(32)} ${r.workload.padEnd(14)} ${formatSpread(r.spread)}`,
      )
    }
    if (wide.length > listed.length) {
      console.warn(`  ... and ${wide.length - listed.length} more, marked ! in the table`)
    }
    console.warn('  (a busy machine or too few repetitions: rerun quietly or with more --reps)')
  }
  const above = meanAboveP99(results)
  if (above.length > 0) {
    console.log(
      `\nnote: in ${above.length} figure(s) the time per op is above p99 (${above.map((r) => `${r.engine}/${r.workload}`).join(', ')}): ` +
        'time per op is wall-clock over the loop (harness work, GC and rare long stalls included), p99 comes from timed single operations; see "Reading the figures" in the report.',
    )
  }
  for (const r of suspiciousDurability(results)) {
    console.warn(
      `WARNING: ${r.engine} durable puts take ${formatNs(r.p50)} (p50), under half the disk's fdatasync time: it may not be syncing each write`,
    )
  }
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
  const outputs = outputsFor(options, date, PACKAGE_DIR, REPO_DIR)
  const engines = options.engines.map((id) => getEngine(id))
  console.log(
    `AlexStorage bench: ${engines.map((e) => e.id).join(', ')} x ${options.workloads.join(', ')}; ` +
      `${options.scale.toLocaleString('en-US')} keys, ${options.valueSize}-byte values, ${options.reps} rep(s)`,
  )
  console.log(where(outputs))
  const history = pickHistory(
    options,
    loadResults([
      join(defaultOutDir(PACKAGE_DIR), 'results.json'),
      join(defaultOutDir(PACKAGE_DIR), 'quick', 'results.json'),
      join(PACKAGE_DIR, 'results'),
    ]),
  )
  const estimate = estimateRun(options, history)
  const loadBefore = loadavg()
  const cores = os.cpus().length
  const factor = loadFactor(loadBefore[0]!, cores)
  console.log(
    `estimate: about ${formatDuration(estimate.seconds)} ${estimate.busyHistory ? 'at the pace of a busy machine' : 'on a quiet machine'}, from the ${estimate.source}` +
      (estimate.lastSameRun !== undefined
        ? `; that run had the same plan and took ${formatDuration(estimate.lastSameRun)}`
        : ''),
  )
  console.log(
    `load average (1 / 5 / 15 min): ${loadBefore.join(' / ')} on ${cores} cores` +
      (factor > 1.2
        ? estimate.busyHistory
          ? ' — the machine is busy: expect noisier figures'
          : ` — the machine is busy: expect up to about ${formatDuration(estimate.seconds * factor)} and noisier figures`
        : ''),
  )
  if (options.publish && factor > 1.2) {
    console.warn(
      'WARNING: --publish on a busy machine: these figures will replace the published ones; stop now (Ctrl-C) and rerun when the load average is well under the core count, unless this is what you want to publish.',
    )
  }
  if (options.dryRun) return 0
  const fsyncBefore = probeFsyncNs(tmpRoot)
  console.log(
    `fdatasync of a 256-byte append on ${tmpRoot}: ${formatNs(fsyncBefore)} (10th percentile of 50)`,
  )
  const progress = createProgress(estimate.children.map((c) => c.seconds))
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
  const loadAfter = loadavg()
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
    load: { before: loadBefore, after: loadAfter },
    estimateSec: Math.round(estimate.seconds),
    footprints: options.engines
      .map((e) => medianFootprint(e, collected.footprints.get(e as never) ?? []))
      .filter((f): f is EngineFootprint => f !== undefined),
  }
  console.log(renderTable(withoutOwnSections(results)))
  console.log(renderReadersText(results))
  printWarnings(results)
  console.log(`\nload average after the run: ${loadAfter.join(' / ')}`)
  mkdirSync(dirname(outputs.json), { recursive: true })
  writeFileSync(outputs.json, `${JSON.stringify(results, null, 2)}\n`)
  console.log(`\nresults: ${outputs.json}`)
  if (options.report) writeReport(results, outputs)
  console.log(
    `done in ${formatDuration(results.durationSec)} (estimated ${formatDuration(estimate.seconds)})` +
      (outputs.published ? '' : '; nothing tracked was changed (use --publish to update docs/)'),
  )
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
  if (rest.publish && results.config.quick) {
    throw new Error('report --publish: a --quick smoke run is not publishable')
  }
  const outputs = outputsFor(
    {
      ...rest,
      scale: results.config.scale,
      quick: results.config.quick && rest.out === undefined ? true : rest.quick,
    },
    results.date,
    PACKAGE_DIR,
    REPO_DIR,
  )
  console.log(renderTable(withoutOwnSections(results)))
  console.log(renderReadersText(results))
  printWarnings(results)
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
