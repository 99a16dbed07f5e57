/**
 * The markdown report: machine, versions, settings, and per workload a table and a chart,
 * then where AlexStorage loses. It fills only the text between the compare markers of
 * docs/benchmarks.md; the rest of that file belongs to other packages.
 */

import { formatDuration } from './estimate.js'
import { renderFootprintSection } from './footprint-report.js'
import {
  durabilityLabel,
  formatCount,
  formatNs,
  formatRate,
  formatRatio,
  formatSpread,
  formatSpreadOf,
} from './format.js'
import { READERS_BEGIN, READERS_END } from './readers/readers-report.js'
import {
  type BenchResults,
  isInMemory,
  lossesOf,
  meanAboveP99,
  SPREAD_WARN,
  suspiciousDurability,
  WIDE_LIST_MAX,
  wideSpreads,
  widestFirst,
  withoutOwnSections,
} from './results.js'

/** Start marker of the generated section. */
export const BEGIN_MARKER = '<!-- compare:begin -->'
/** End marker of the generated section. */
export const END_MARKER = '<!-- compare:end -->'

/**
 * Replaces the text between the markers of `doc` (by default the compare markers) with
 * `generated`; throws if they are missing.
 */
export function replaceBetweenMarkers(
  doc: string,
  generated: string,
  beginMarker = BEGIN_MARKER,
  endMarker = END_MARKER,
): string {
  const begin = doc.indexOf(beginMarker)
  const end = doc.indexOf(endMarker)
  if (begin < 0 || end < 0 || end < begin) {
    throw new Error(`the report needs the markers ${beginMarker} and ${endMarker}, in that order`)
  }
  return `${doc.slice(0, begin + beginMarker.length)}\n${generated.trim()}\n${doc.slice(end)}`
}

/** "0.52, 0.60, 0.71" from os.loadavg(). */
function loadText(l: readonly number[]): string {
  return l.map((x) => x.toFixed(2)).join(' / ')
}

/** The run's duration, estimate and load, in one paragraph. */
function runLine(results: BenchResults, readme: string): string {
  const { config, machine } = results
  const parts = [
    `Measured ${results.date.slice(0, 10)} with \`${results.command}\` in ${formatDuration(results.durationSec)} of wall time` +
      (results.estimateSec !== undefined
        ? ` (estimated before the start: ${formatDuration(results.estimateSec)})`
        : '') +
      '.',
  ]
  if (results.load !== undefined) {
    const busy = Math.max(results.load.before[0] ?? 0, results.load.after[0] ?? 0) > machine.cores
    parts.push(
      `Load average (1 / 5 / 15 min) on the ${machine.cores} cores: ${loadText(results.load.before)} before the run, ${loadText(results.load.after)} after` +
        (busy ? ' — **the machine was busy: other work competed with the engines**.' : '.'),
    )
  } else {
    parts.push('Load average: not recorded in these results (the bench did not record it yet).')
  }
  parts.push(
    `Every figure is the median of ${config.reps} repetition${config.reps === 1 ? '' : 's'}, ` +
      'each engine in its own process on a fresh directory; how it is measured: ' +
      `[benchmarks/README.md](${readme}).`,
  )
  return parts.join(' ')
}

/**
 * The generated markdown section (without markers); `chartsDir` and `readme` (benchmarks/README.md)
 * are links relative to the report.
 */
export function renderReport(
  all: BenchResults,
  chartsDir: string,
  readme = '../benchmarks/README.md',
): string {
  // The readers workload has its own section (src/readers/readers-report.ts).
  const results = withoutOwnSections(all)
  const { machine, config } = results
  const names = new Map(results.engines.map((e) => [e.id, e.name]))
  const nameOf = (id: string): string => names.get(id as never) ?? id
  const baselineName =
    names.get(config.baseline as never) ??
    (config.baseline === 'alex' ? 'AlexStorage' : config.baseline)
  const hasBaseline = results.engines.some((e) => e.id === config.baseline)
  const titles = new Map(results.workloads.map((w) => [w.id, w.title]))
  const units = new Map(results.workloads.map((w) => [w.id, w.unit]))
  const wide = wideSpreads(results)
  const wideSet = new Set(wide)
  const L: string[] = []
  L.push(runLine(results, readme))
  if (config.quick) L.push('', '**This is a --quick smoke run: tiny scale, figures mean nothing.**')
  if (wide.length > 0) {
    const listed = widestFirst(wide).slice(0, WIDE_LIST_MAX)
    const more = wide.length - listed.length
    const measured = results.results.filter((r) => !r.unsupported).length
    L.push('')
    L.push(
      `**Warning: ${wide.length} figure${wide.length === 1 ? ' varies' : 's vary'} by more than ±${SPREAD_WARN * 100}% between repetitions** (marked ⚠ below), so ${wide.length === 1 ? 'its median is' : 'their medians are'} not a stable measurement` +
        `${more > 0 ? '; the widest' : ''}: ` +
        listed
          .map(
            (r) =>
              `${nameOf(r.engine)} in ${titles.get(r.workload) ?? r.workload} ${formatSpread(r.spread)}`,
          )
          .join(', ') +
        (more > 0 ? `, and ${more} more` : '') +
        '. Rerun on a quiet machine, or with more `--reps`, before drawing a conclusion from ' +
        (wide.length === 1 ? 'it.' : 'them.') +
        (wide.length * 2 >= measured
          ? ` That is ${wide.length} of ${measured} figures: the machine was busy during this run, which is not one to publish.`
          : ''),
    )
  }
  L.push('')
  L.push('| machine | |')
  L.push('| --- | --- |')
  L.push(`| CPU | ${machine.cpu}, ${machine.cores} cores |`)
  L.push(`| memory | ${machine.memoryGiB} GiB |`)
  L.push(`| disk | ${machine.disk} |`)
  L.push(`| OS | ${machine.os} |`)
  L.push(`| Node.js | ${machine.node} |`)
  L.push('')
  L.push(
    `Data: ${formatCount(config.scale)} keys (${config.distribution}), ${config.valueSize}-byte values, seed ${config.seed}; ` +
      'the same keys, values and operation sequence for every engine. Caches at each engine’s defaults. ' +
      `Every value read was compared byte for byte with what was written (${formatCount(
        results.results.reduce((s, r) => s + r.verifiedValues, 0) + results.finalVerified,
      )} values checked): ${results.correct ? 'all correct' : '**MISMATCHES FOUND**'}. ` +
      `A 256-byte append plus fdatasync on this disk takes ${formatNs(results.fsyncNs)} (10th percentile of 50 tries, the lower of two probes before and after the run): no durable single write can be much faster. ` +
      `Point-read figures include about ${Math.round(results.harnessNsPerRead)} ns of harness work per read (key choice and that comparison), measured in the same run.`,
  )
  L.push('')
  L.push('| engine | version | durable setting | not-synced setting |')
  L.push('| --- | --- | --- | --- |')
  for (const e of results.engines) {
    L.push(`| ${e.name} | ${e.version} | ${e.durable} | ${e.fast} |`)
  }
  for (const r of suspiciousDurability(results)) {
    L.push('')
    L.push(
      `**Warning:** ${nameOf(r.engine)} acknowledged durable puts in ${formatNs(r.p50)} (p50), under half the disk’s fdatasync time: it may not sync every write.`,
    )
  }
  if (!hasBaseline) {
    L.push('')
    L.push(
      `**${baselineName} is not in this run**, so the ratio column is empty and there is no comparison with it.`,
    )
  }
  for (const w of results.workloads) {
    const rows = results.results.filter((r) => r.workload === w.id)
    if (rows.length === 0) continue
    const d = rows[0]!.durability
    L.push('')
    L.push(`### ${w.title}`)
    L.push('')
    L.push(
      `${w.description} ${formatCount(rows[0]!.ops)} ${w.unit}s measured. Durability: ${durabilityLabel(d)}.`,
    )
    L.push('')
    L.push(`![${w.title}](${chartsDir}/${w.id}.svg)`)
    L.push('')
    L.push(
      `| engine | ${w.unit}s/s | time per ${w.unit} | spread | p50 | p99 | p99.9 | time vs ${baselineName} |`,
    )
    L.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
    for (const r of rows) {
      const name = isInMemory(r.engine) ? `${nameOf(r.engine)} ¹` : nameOf(r.engine)
      if (r.unsupported) {
        L.push(`| ${name} | n/a (no ordered scans) | | | | | | |`)
        continue
      }
      const spreadCell = `${formatSpreadOf(r)}${wideSet.has(r) ? ' ⚠' : ''}`
      L.push(
        `| ${name} | ${formatRate(r.opsPerSec)} | ${formatNs(r.nsPerOp)} | ${spreadCell} | ${formatNs(r.p50)} | ${formatNs(r.p99)} | ${formatNs(r.p999)} | ${formatRatio(r.vsBaseline)} |`,
      )
    }
  }
  const footprint = renderFootprintSection(results)
  if (footprint !== '') L.push('', footprint)
  L.push('')
  L.push(
    '¹ In-memory reference: no disk, not a storage engine; it marks the limit and is left out of the charts.',
  )
  L.push('')
  L.push(`### Where ${baselineName} loses`)
  L.push('')
  if (!hasBaseline) {
    L.push(`Not known: ${baselineName} was not measured in this run.`)
  } else {
    const { real, inMemory } = lossesOf(results)
    if (real.length === 0) {
      L.push(
        `Against the disk engines: nowhere in this run; ${baselineName} was the fastest of them in every workload.`,
      )
    } else {
      L.push('Against the disk engines, biggest loss first:')
      L.push('')
      for (const l of real) {
        const unit = units.get(l.workload) ?? 'op'
        const noise =
          l.factor - 1 <= l.spread + l.baselineSpread
            ? ` — within the spread of the two figures (${formatSpread(l.spread * 2)} and ${formatSpread(l.baselineSpread * 2)}), so not a clear loss`
            : ''
        L.push(
          `- ${titles.get(l.workload) ?? l.workload}: ${nameOf(l.engine)} is ${formatRatio(l.factor)} as fast (${formatNs(l.nsPerOp)} per ${unit})${noise}.`,
        )
      }
    }
    L.push('')
    if (inMemory.length === 0) {
      L.push('The in-memory references were not faster anywhere.')
    } else {
      const byEngine = new Map<string, string[]>()
      for (const l of inMemory) {
        const list = byEngine.get(l.engine) ?? []
        list.push(`${titles.get(l.workload) ?? l.workload} (${formatRatio(l.factor)})`)
        byEngine.set(l.engine, list)
      }
      L.push(
        'The in-memory references, which write nothing to disk, are faster in: ' +
          [...byEngine].map(([e, list]) => `${nameOf(e)} — ${list.join(', ')}`).join('; ') +
          '. They mark the limit of the harness, not an alternative.',
      )
    }
  }
  L.push('')
  L.push('### Reading the figures')
  L.push('')
  L.push(
    '- **ops/s and time per op** are wall-clock over the whole measured loop (time per op = 1 / throughput). ' +
      '**p50, p99, p99.9** are latencies of single timed operations: every operation in the durable and scan workloads, ' +
      'every 8th in loops faster than a microsecond (a timer read costs about 50 ns), one per batch of 1,000 in the bulk load.',
  )
  L.push(
    '- **Time per op can exceed p99.** The loop time also holds what the latency samples leave out: the harness’s work between operations ' +
      '(choosing the key, checking the value), garbage-collection and compaction pauses that land between timed operations, ' +
      'and rare long stalls (fewer than 1% of the operations can add more to the mean than the p99 itself: one 5 ms pause among 1,000 operations adds 5 µs to each). ' +
      'The medians of the repetitions are also taken figure by figure, so the mean and the p99 may come from different repetitions.' +
      (meanAboveP99(results).length > 0
        ? ` In this run: ${meanAboveP99(results)
            .map(
              (r) =>
                `${nameOf(r.engine)} in ${titles.get(r.workload) ?? r.workload} (${formatNs(r.nsPerOp)} per op, p99 ${formatNs(r.p99)})`,
            )
            .join(', ')}.`
        : ' It did not happen in this run.'),
  )
  L.push(
    '- **With 64 writers**, time per op is the wall time divided by the operations, with 64 in flight at once, so it is far below the latency each writer waits (p50).',
  )
  L.push(
    `- **Spread** is ± half of (max − min) / median of the repetitions’ throughput; above ±${SPREAD_WARN * 100}% the figure is flagged ⚠; n/a: a single repetition has no spread. ` +
      'Ratios are times divided by the baseline’s time in the same run (above 1: the baseline is faster).',
  )
  return L.join('\n')
}

/**
 * A standalone report file (for --out, --quick and the default benchmarks/out/): heading, markers
 * and the section, then the readers section in its markers when the run has one.
 */
export function standaloneReport(section: string, readers = ''): string {
  const compare = `# Engines side by side (@alex/compare)\n\n${BEGIN_MARKER}\n${section.trim()}\n${END_MARKER}\n`
  if (readers.trim() === '') return compare
  return `${compare}\n## Readers following a live writer\n\n${READERS_BEGIN}\n${readers.trim()}\n${READERS_END}\n`
}
