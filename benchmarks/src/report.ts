/**
 * The markdown report: machine, versions, settings, and per workload a table and a chart,
 * then where AlexStorage loses. It fills only the text between the compare markers of
 * docs/benchmarks.md; the rest of that file belongs to other packages.
 */

import {
  durabilityLabel,
  formatCount,
  formatNs,
  formatRate,
  formatRatio,
  formatSpread,
} from './format.js'
import { type BenchResults, suspiciousDurability } from './results.js'

/** Start marker of the generated section. */
export const BEGIN_MARKER = '<!-- compare:begin -->'
/** End marker of the generated section. */
export const END_MARKER = '<!-- compare:end -->'

const IN_MEMORY = new Set(['map', 'btree'])

/** Replaces the text between the markers of `doc` with `generated`; throws if they are missing. */
export function replaceBetweenMarkers(doc: string, generated: string): string {
  const begin = doc.indexOf(BEGIN_MARKER)
  const end = doc.indexOf(END_MARKER)
  if (begin < 0 || end < 0 || end < begin) {
    throw new Error(`the report needs the markers ${BEGIN_MARKER} and ${END_MARKER}, in that order`)
  }
  return `${doc.slice(0, begin + BEGIN_MARKER.length)}\n${generated.trim()}\n${doc.slice(end)}`
}

/** The generated markdown section (without markers); `chartsDir` is relative to the report. */
export function renderReport(results: BenchResults, chartsDir: string): string {
  const { machine, config } = results
  const names = new Map(results.engines.map((e) => [e.id, e.name]))
  const baselineName =
    names.get(config.baseline as never) ??
    (config.baseline === 'alex' ? 'AlexStorage' : config.baseline)
  const hasBaseline = results.engines.some((e) => e.id === config.baseline)
  const L: string[] = []
  L.push(
    `Measured ${results.date.slice(0, 10)} with \`${results.command}\` (${Math.round(results.durationSec)} s). ` +
      `Every figure is the median of ${config.reps} repetition${config.reps === 1 ? '' : 's'}, ` +
      'each engine in its own process on a fresh directory; how it is measured: ' +
      '[benchmarks/README.md](../benchmarks/README.md).',
  )
  if (config.quick) L.push('', '**This is a --quick smoke run: tiny scale, figures mean nothing.**')
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
      `**Warning:** ${names.get(r.engine) ?? r.engine} acknowledged durable puts in ${formatNs(r.p50)} (p50), under half the disk’s fdatasync time: it may not sync every write.`,
    )
  }
  if (!hasBaseline) {
    L.push('')
    L.push(
      `**${baselineName} is not in this run** (the AlexStorage adapter is switched on once @alex/storage has landed), so the ratio column is empty and there is no comparison with it yet.`,
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
      const name = names.get(r.engine) ?? r.engine
      if (r.unsupported) {
        L.push(`| ${name} | n/a (no ordered scans) | | | | | | |`)
        continue
      }
      L.push(
        `| ${name} | ${formatRate(r.opsPerSec)} | ${formatNs(r.nsPerOp)} | ${formatSpread(r.spread)} | ${formatNs(r.p50)} | ${formatNs(r.p99)} | ${formatNs(r.p999)} | ${formatRatio(r.vsBaseline)} |`,
      )
    }
  }
  L.push('')
  L.push(`### Where ${baselineName} loses`)
  L.push('')
  if (!hasBaseline) {
    L.push(`Not known yet: ${baselineName} was not measured in this run.`)
  } else {
    const losses: string[] = []
    for (const w of results.workloads) {
      const faster = results.results.filter(
        (r) => r.workload === w.id && !r.unsupported && r.vsBaseline !== null && r.vsBaseline < 1,
      )
      for (const r of faster) {
        const kind = IN_MEMORY.has(r.engine) ? ' (in-memory reference)' : ''
        losses.push(
          `- ${w.title}: ${names.get(r.engine) ?? r.engine}${kind} is ${formatRatio(1 / r.vsBaseline!)} as fast (${formatNs(r.nsPerOp)} per ${w.unit}).`,
        )
      }
    }
    if (losses.length === 0)
      L.push(`Nowhere in this run: ${baselineName} was fastest in every workload.`)
    else L.push(...losses)
  }
  L.push('')
  L.push(
    'Ratios are times divided by the baseline’s time in the same run (above 1: the baseline is faster). ' +
      'Read figures are wall-clock over the whole loop; latency percentiles come from an HdrHistogram of every 8th operation in loops faster than a microsecond, of every operation otherwise; the bulk load records one latency per batch of 1,000.',
  )
  return L.join('\n')
}

/** A standalone report file (for --out and --quick): heading, markers and the section. */
export function standaloneReport(section: string): string {
  return `# Engines side by side (@alex/compare)\n\n${BEGIN_MARKER}\n${section.trim()}\n${END_MARKER}\n`
}
