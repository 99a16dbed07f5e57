/** The terminal table: one block per workload, one row per engine. */

import { renderFootprintText } from './footprint-report.js'
import { durabilityLabel, formatNs, formatRate, formatRatio, formatSpreadOf } from './format.js'
import { type BenchResults, halfSpread, SPREAD_WARN } from './results.js'

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
}

/**
 * Renders the results as plain text (no colours, so it also reads well in CI logs); a spread over
 * ±25% is marked `!`. The memory and disk table follows when the results have one.
 */
export function renderTable(results: BenchResults): string {
  const baseline = results.config.baseline
  const names = new Map(results.engines.map((e) => [e.id, e.name]))
  const head = ['engine', 'ops/s', 'per op', 'spread', 'p50', 'p99', 'p99.9', `vs ${baseline}`]
  const lines: string[] = []
  for (const w of results.workloads) {
    const rows = results.results.filter((r) => r.workload === w.id)
    if (rows.length === 0) continue
    const first = rows[0]!
    lines.push('')
    lines.push(
      `${w.title}: ${durabilityLabel(first.durability)}; ${first.ops.toLocaleString('en-US')} ${w.unit}s`,
    )
    const body = rows.map((r) =>
      r.unsupported
        ? [names.get(r.engine) ?? r.engine, 'n/a', '', '', '', '', '', '']
        : [
            names.get(r.engine) ?? r.engine,
            formatRate(r.opsPerSec),
            formatNs(r.nsPerOp),
            `${formatSpreadOf(r)}${halfSpread(r) > SPREAD_WARN ? ' !' : ''}`,
            formatNs(r.p50),
            formatNs(r.p99),
            formatNs(r.p999),
            formatRatio(r.vsBaseline),
          ],
    )
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)))
    lines.push(pad(head, widths))
    for (const b of body) lines.push(pad(b, widths))
  }
  const footprint = renderFootprintText(results)
  if (footprint !== '') lines.push(footprint)
  return lines.join('\n')
}
