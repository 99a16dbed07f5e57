/**
 * SVG bar charts rendered from the JSON results, one per workload: throughput per engine
 * (higher is better), AlexStorage highlighted, the in-memory references greyed. Plain SVG
 * text, no browser or library needed.
 */

import { durabilityLabel, formatNs, formatRate } from './format.js'
import type { BenchResults } from './results.js'

const WIDTH = 760
const LABEL = 230
const ROW = 26
const TOP = 56
const RIGHT = 150

/** Escapes text for SVG. */
export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
}

function colour(engine: string, inMemory: boolean): string {
  if (engine === 'alex') return '#d9480f'
  return inMemory ? '#adb5bd' : '#1c7ed6'
}

/** One chart per workload that has figures: file name (`<workload>.svg`) -> SVG text. */
export function renderCharts(results: BenchResults): Map<string, string> {
  const charts = new Map<string, string>()
  const names = new Map(results.engines.map((e) => [e.id, e.name]))
  for (const w of results.workloads) {
    const rows = results.results.filter((r) => r.workload === w.id && !r.unsupported)
    if (rows.length === 0) continue
    const max = Math.max(...rows.map((r) => r.opsPerSec))
    const min = Math.min(...rows.map((r) => r.opsPerSec))
    // A log scale when engines differ by more than 30x, so the slow ones stay visible.
    const log = min > 0 && max / min > 30
    const lo = log ? 10 ** Math.floor(Math.log10(min)) : 0
    const scale = (v: number): number => {
      const span = WIDTH - LABEL - RIGHT
      if (!log) return (v / max) * span
      return ((Math.log10(v) - Math.log10(lo)) / (Math.log10(max) - Math.log10(lo))) * span
    }
    const height = TOP + rows.length * ROW + 30
    const out: string[] = []
    out.push(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="13">`,
    )
    out.push(`<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`)
    out.push(
      `<text x="12" y="22" font-size="15" font-weight="600">${escapeXml(w.title)}: ${escapeXml(w.unit)}s per second (higher is better)</text>`,
    )
    const d = rows[0]!.durability
    out.push(
      `<text x="12" y="41" fill="#495057">${escapeXml(`${durabilityLabel(d)}; ${results.config.scale.toLocaleString('en-US')} keys, ${results.config.valueSize}-byte values; median of ${results.config.reps}${log ? '; log scale' : ''}`)}</text>`,
    )
    rows.forEach((r, i) => {
      const y = TOP + i * ROW
      const inMemory = r.engine === 'map' || r.engine === 'btree'
      const wBar = Math.max(1, scale(r.opsPerSec))
      out.push(
        `<text x="${LABEL - 8}" y="${y + 16}" text-anchor="end">${escapeXml(names.get(r.engine) ?? r.engine)}</text>`,
      )
      out.push(
        `<rect x="${LABEL}" y="${y + 3}" width="${wBar.toFixed(1)}" height="${ROW - 8}" fill="${colour(r.engine, inMemory)}"/>`,
      )
      out.push(
        `<text x="${(LABEL + wBar + 6).toFixed(1)}" y="${y + 16}" fill="#212529">${escapeXml(`${formatRate(r.opsPerSec)} · ${formatNs(r.nsPerOp)}`)}</text>`,
      )
    })
    const axisY = TOP + rows.length * ROW + 4
    out.push(
      `<line x1="${LABEL}" y1="${TOP}" x2="${LABEL}" y2="${axisY}" stroke="#868e96" stroke-width="1"/>`,
    )
    out.push(
      `<text x="${LABEL}" y="${axisY + 18}" fill="#868e96" font-size="11">${log ? `${formatRate(lo)} (log)` : '0'}</text>`,
    )
    out.push('</svg>')
    charts.set(`${w.id}.svg`, `${out.join('\n')}\n`)
  }
  return charts
}
