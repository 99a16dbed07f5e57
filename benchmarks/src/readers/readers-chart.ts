/**
 * The `readers` chart, in the style of charts.ts: one horizontal bar per configuration, the
 * aggregate reads per second of all readers (and of the writer's own gets, for reference), on a
 * linear axis from zero, labelled with the staleness p99 and, where other processes kept a quarter
 * core or more busy during the window, with that load. One run (first repetition): no whisker.
 */
import { escapeXml, niceStep, tickLabel } from '../charts.js'
import { formatRate } from '../format.js'
import type { BenchResults } from '../results.js'
import { readersDetails } from './readers-report.js'

const WIDTH = 1000
const LABEL = 260
const ROW = 26
const TOP = 62
const RIGHT = 380

interface Bar {
  readonly engine: string
  readonly label: string
  readonly value: number
  readonly note: string
}

function colour(engine: string): string {
  return engine === 'alex' ? '#d9480f' : '#1c7ed6'
}

/** The chart, or undefined when the workload did not run. */
export function renderReadersChart(results: BenchResults): string | undefined {
  const details = readersDetails(results)
  if (details.size === 0) return undefined
  const names = new Map(results.engines.map((e) => [e.id as string, e.name]))
  const bars: Bar[] = []
  for (const d of details.values()) {
    const name = names.get(d.engine) ?? d.engine
    for (const p of d.phases) {
      if (p.reads === 0) continue
      const who =
        p.kind === 'writer-get'
          ? 'the writer’s own gets'
          : `${p.readers} ${p.kind === 'processes' ? 'process' : 'thread'}${p.readers === 1 ? '' : p.kind === 'processes' ? 'es' : 's'}`
      const stale =
        p.staleness !== undefined ? ` · staleness p99 ${(p.staleness.p99 / 1e6).toFixed(1)} ms` : ''
      // A window that other processes loaded is marked: its bar is short of what it could be.
      const others =
        p.otherCores !== undefined && p.otherCores >= 0.25
          ? ` · others used ${p.otherCores.toFixed(1)} cores`
          : ''
      bars.push({
        engine: d.engine,
        label: `${name}, ${who}`,
        value: p.readsPerSec,
        note: `${formatRate(p.readsPerSec)}${stale}${others}`,
      })
    }
  }
  const max = Math.max(1, ...bars.map((b) => b.value))
  const step = niceStep(max)
  const axisMax = Math.ceil(max / step) * step
  const span = WIDTH - LABEL - RIGHT
  const x = (v: number): number => LABEL + (v / axisMax) * span
  const height = TOP + bars.length * ROW + 34
  const axisY = TOP + bars.length * ROW + 4
  const any = [...details.values()][0]!
  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="13">`,
  )
  out.push(`<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`)
  out.push(
    '<text x="12" y="22" font-size="15" font-weight="600">Readers following a live writer: reads per second, all readers (higher is better)</text>',
  )
  out.push(
    `<text x="12" y="41" fill="#495057">${escapeXml(`while the writer does ${any.writeRate.toLocaleString('en-US')} durable puts/s; ${any.keys.toLocaleString('en-US')} keys, ${any.valueSize}-byte values; ${results.machine.cores} cores`)}</text>`,
  )
  out.push(
    `<text x="12" y="56" fill="#495057" font-size="11">${escapeXml(`linear scale from 0; one ${any.windowMs} ms window per bar (first repetition only)`)}</text>`,
  )
  for (let v = 0; v <= axisMax + step / 2; v += step) {
    const gx = x(v).toFixed(1)
    out.push(
      `<line x1="${gx}" y1="${TOP}" x2="${gx}" y2="${axisY}" stroke="${v === 0 ? '#868e96' : '#e9ecef'}" stroke-width="1"/>`,
    )
    out.push(
      `<text x="${gx}" y="${axisY + 18}" fill="#868e96" font-size="11" text-anchor="middle">${tickLabel(v)}</text>`,
    )
  }
  bars.forEach((b, i) => {
    const y = TOP + i * ROW
    const w = Math.max(1, x(b.value) - LABEL)
    out.push(`<text x="${LABEL - 8}" y="${y + 16}" text-anchor="end">${escapeXml(b.label)}</text>`)
    out.push(
      `<rect x="${LABEL}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW - 8}" fill="${colour(b.engine)}"/>`,
    )
    out.push(
      `<text x="${(LABEL + w + 6).toFixed(1)}" y="${y + 16}" fill="#212529">${escapeXml(b.note)}</text>`,
    )
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
