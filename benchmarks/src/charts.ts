/**
 * SVG bar charts rendered from the JSON results, one per workload: throughput of each disk
 * engine (higher is better) on a linear scale from zero, so a 14x gap looks 14x wide, with the
 * spread of the repetitions drawn as a whisker from the slowest to the fastest one. The in-memory
 * references (Map, sorted-btree) are left out: they write nothing to disk and would squash the
 * engines that do; their figures are in the tables. Plain SVG text, no browser or library needed.
 */

import { durabilityLabel, formatNs, formatRate, formatSpreadOf } from './format.js'
import { type BenchResults, isInMemory, withoutOwnSections } from './results.js'

const WIDTH = 800
const LABEL = 230
const ROW = 26
const TOP = 62
const RIGHT = 210

/** Escapes text for SVG. */
export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
}

function colour(engine: string): string {
  return engine === 'alex' ? '#d9480f' : '#1c7ed6'
}

/** A "nice" axis step (1, 2 or 5 times a power of ten) giving about `ticks` intervals up to `max`. */
export function niceStep(max: number, ticks = 4): number {
  if (!(max > 0)) return 1
  const raw = max / ticks
  const pow = 10 ** Math.floor(Math.log10(raw))
  const m = raw / pow
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * pow
}

/** An axis label: 0, 500, 2 k, 1.5 M. */
export function tickLabel(v: number): string {
  if (v >= 1e6) return `${Number((v / 1e6).toPrecision(3))} M`
  if (v >= 1e3) return `${Number((v / 1e3).toPrecision(3))} k`
  return String(Number(v.toPrecision(3)))
}

/** One chart per workload that has disk-engine figures: file name (`<workload>.svg`) -> SVG text. */
export function renderCharts(all: BenchResults): Map<string, string> {
  // The readers workload draws its own chart (src/readers/readers-chart.ts).
  const results = withoutOwnSections(all)
  const charts = new Map<string, string>()
  const names = new Map(results.engines.map((e) => [e.id, e.name]))
  for (const w of results.workloads) {
    const all = results.results.filter((r) => r.workload === w.id && !r.unsupported)
    const rows = all.filter((r) => !isInMemory(r.engine))
    if (rows.length === 0) continue
    const left = all.length - rows.length
    // Whiskers span the repetitions' throughputs (per-repetition figures; the median is the bar).
    const range = rows.map((r) => {
      const xs = r.reps.filter((x) => !x.unsupported).map((x) => x.opsPerSec)
      return xs.length === 0
        ? { lo: r.opsPerSec, hi: r.opsPerSec }
        : { lo: Math.min(...xs), hi: Math.max(...xs) }
    })
    const top = Math.max(...rows.map((r) => r.opsPerSec), ...range.map((x) => x.hi))
    const step = niceStep(top, 5)
    const axisMax = Math.ceil(top / step) * step
    const span = WIDTH - LABEL - RIGHT
    const x = (v: number): number => LABEL + (v / axisMax) * span
    const height = TOP + rows.length * ROW + 34
    const axisY = TOP + rows.length * ROW + 4
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
      `<text x="12" y="41" fill="#495057">${escapeXml(`${durabilityLabel(d)}; ${results.config.scale.toLocaleString('en-US')} keys, ${results.config.valueSize}-byte values`)}</text>`,
    )
    out.push(
      `<text x="12" y="56" fill="#495057" font-size="11">${escapeXml(
        `linear scale from 0; bar: median of ${results.config.reps} runs, whisker: slowest to fastest` +
          (left > 0 ? '; in-memory references not shown (no disk)' : ''),
      )}</text>`,
    )
    // Grid lines and tick labels.
    for (let v = 0; v <= axisMax + step / 2; v += step) {
      const gx = x(v).toFixed(1)
      out.push(
        `<line x1="${gx}" y1="${TOP}" x2="${gx}" y2="${axisY}" stroke="${v === 0 ? '#868e96' : '#e9ecef'}" stroke-width="1"/>`,
      )
      out.push(
        `<text x="${gx}" y="${axisY + 18}" fill="#868e96" font-size="11" text-anchor="middle">${tickLabel(v)}</text>`,
      )
    }
    rows.forEach((r, i) => {
      const y = TOP + i * ROW
      const wBar = Math.max(1, x(r.opsPerSec) - LABEL)
      const { lo, hi } = range[i]!
      out.push(
        `<text x="${LABEL - 8}" y="${y + 16}" text-anchor="end">${escapeXml(names.get(r.engine) ?? r.engine)}</text>`,
      )
      out.push(
        `<rect x="${LABEL}" y="${y + 3}" width="${wBar.toFixed(1)}" height="${ROW - 8}" fill="${colour(r.engine)}"/>`,
      )
      if (hi > lo) {
        const cy = y + 3 + (ROW - 8) / 2
        const x1 = x(lo).toFixed(1)
        const x2 = x(hi).toFixed(1)
        out.push(
          `<g class="spread" stroke="#212529" stroke-width="1.2"><line x1="${x1}" y1="${cy}" x2="${x2}" y2="${cy}"/><line x1="${x1}" y1="${cy - 5}" x2="${x1}" y2="${cy + 5}"/><line x1="${x2}" y1="${cy - 5}" x2="${x2}" y2="${cy + 5}"/></g>`,
        )
      }
      const labelX = Math.max(LABEL + wBar, x(hi)) + 6
      out.push(
        `<text x="${labelX.toFixed(1)}" y="${y + 16}" fill="#212529">${escapeXml(`${formatRate(r.opsPerSec)} · ${formatNs(r.nsPerOp)} · ${formatSpreadOf(r)}`)}</text>`,
      )
    })
    out.push('</svg>')
    charts.set(`${w.id}.svg`, `${out.join('\n')}\n`)
  }
  return charts
}
