/**
 * The markdown section of the `readers` workload (issue #11), rendered from the JSON results:
 * the issue's targets against figures of the same run, every phase's reads, puts and staleness,
 * the memory each reader costs, and AlexStorage against LMDB. It fills the text between the
 * readers markers of docs/benchmarks.md (or follows the compare section in a standalone report).
 */
import { formatCount, formatNs, formatRate } from '../format.js'
import { median } from '../measure.js'
import type { BenchResults } from '../results.js'
import { type PhaseResult, phase, type ReadersDetail } from './plan.js'
import { WARM_STRIDE } from './read-loop.js'
import { readerMemory, readersTargets, type TargetCheck } from './targets.js'

/** Start marker of the generated readers section. */
export const READERS_BEGIN = '<!-- readers:begin -->'
/** End marker of the generated readers section. */
export const READERS_END = '<!-- readers:end -->'

/** The readers details of a run, by engine id (empty when the workload did not run). */
export function readersDetails(results: BenchResults): Map<string, ReadersDetail> {
  const out = new Map<string, ReadersDetail>()
  for (const a of results.results) {
    if (a.workload !== 'readers' || a.unsupported) continue
    const d = a.reps.find((r) => r.readers !== undefined)?.readers
    if (d !== undefined) out.set(a.engine, d)
  }
  return out
}

const MB = (b: number | undefined): string =>
  b === undefined ? '—' : `${(b / 2 ** 20).toFixed(b < 10 * 2 ** 20 ? 1 : 0)} MiB`
const ms = (ns: number | undefined): string =>
  ns === undefined ? '—' : `${(ns / 1e6).toFixed(ns < 1e7 ? 2 : 1)} ms`

function targetCell(t: TargetCheck): string {
  if (t.value === undefined) return '—'
  return t.unit === 'ratio' ? `${t.value.toFixed(2)}×` : `${t.value.toFixed(2)} ms`
}

function verdict(t: TargetCheck): string {
  return t.ok === undefined ? 'not measured' : t.ok ? 'met' : '**missed**'
}

/** A phase's configuration in words. */
export function phaseLabel(p: Pick<PhaseResult, 'kind' | 'readers'>): string {
  switch (p.kind) {
    case 'writer-get':
      return 'no reader; the writer’s own gets'
    case 'no-readers':
      return 'no reader'
    case 'processes':
      return `${p.readers} reader process${p.readers === 1 ? '' : 'es'}`
    default:
      return `${p.readers} reader thread${p.readers === 1 ? '' : 's'}`
  }
}

function phaseRow(name: string, p: PhaseResult): string {
  const reads = p.reads > 0
  const per = p.perReader.map((x) => formatRate(x)).join(', ')
  return [
    `${name}: ${phaseLabel(p)}`,
    reads ? formatRate(p.readsPerSec) : '—',
    reads && p.readers > 1 ? per : '',
    reads ? formatNs(p.readLatency.p50) : '—',
    reads ? formatNs(p.readLatency.p99) : '—',
    formatRate(p.putsPerSec),
    formatNs(p.putLatency.p50),
    formatNs(p.putLatency.p99),
    p.staleness !== undefined ? ms(p.staleness.p50) : '—',
    p.staleness !== undefined
      ? `${ms(p.staleness.p99)}${p.staleness.unseen > 0 ? ` (${p.staleness.unseen} unseen)` : ''}`
      : '—',
    p.otherCores !== undefined ? p.otherCores.toFixed(2) : '—',
  ].join(' | ')
}

/** AlexStorage against LMDB on the figures both measured; `better` says which way is better. */
function versusRows(alex: ReadersDetail, lmdb: ReadersDetail): string[] {
  const rows: string[] = []
  const lost: string[] = []
  const add = (
    what: string,
    a: number | undefined,
    l: number | undefined,
    fmt: (x: number) => string,
    higherIsBetter: boolean,
  ): void => {
    if (a === undefined || l === undefined || a <= 0 || l <= 0) return
    const factor = higherIsBetter ? l / a : a / l
    const times = (x: number): string => `${x >= 10 ? x.toFixed(0) : x.toFixed(2)}×`
    const side = factor > 1 ? `LMDB ${times(factor)}` : `AlexStorage ${times(1 / factor)}`
    rows.push(`| ${what} | ${fmt(a)} | ${fmt(l)} | ${side} |`)
    if (factor > 1) lost.push(`${what} (LMDB ${times(factor)} better)`)
  }
  for (const k of [1, 2, 4]) {
    const a = phase(alex, `processes-${k}`)
    const l = phase(lmdb, `processes-${k}`)
    add(
      `reads/s, ${k} reader process${k === 1 ? '' : 'es'}`,
      a?.readsPerSec,
      l?.readsPerSec,
      formatRate,
      true,
    )
  }
  add(
    'get p50, 2 reader processes',
    phase(alex, 'processes-2')?.readLatency.p50,
    phase(lmdb, 'processes-2')?.readLatency.p50,
    formatNs,
    false,
  )
  add(
    'writer’s own reads/s',
    phase(alex, 'writer-get')?.readsPerSec,
    phase(lmdb, 'writer-get')?.readsPerSec,
    formatRate,
    true,
  )
  for (const pct of ['p50', 'p99'] as const) {
    add(
      `durable put ${pct}, no reader`,
      phase(alex, 'no-readers')?.putLatency[pct],
      phase(lmdb, 'no-readers')?.putLatency[pct],
      formatNs,
      false,
    )
    add(
      `durable put ${pct}, 2 reader processes`,
      phase(alex, 'processes-2')?.putLatency[pct],
      phase(lmdb, 'processes-2')?.putLatency[pct],
      formatNs,
      false,
    )
  }
  for (const k of [1, 2]) {
    add(
      `staleness p99, ${k} reader process${k === 1 ? '' : 'es'}`,
      phase(alex, `processes-${k}`)?.staleness?.p99,
      phase(lmdb, `processes-${k}`)?.staleness?.p99,
      (x) => ms(x),
      false,
    )
  }
  const am = readerMemory(alex)
  const lm = readerMemory(lmdb)
  add('extra private memory per reader process', am.processPrivate, lm.processPrivate, MB, false)
  rows.push('')
  const mean = (d: ReadersDetail): number => {
    const xs = d.phases.map((p) => p.otherCores ?? 0)
    return xs.reduce((sum, x) => sum + x, 0) / Math.max(1, xs.length)
  }
  const [ao, lo] = [mean(alex), mean(lmdb)]
  if (Math.abs(ao - lo) >= 0.25) {
    rows.push(
      `**Not like for like:** other processes kept ${ao.toFixed(2)} cores busy on average during AlexStorage’s windows and ${lo.toFixed(2)} during LMDB’s, so the rates and tail latencies of the ${ao > lo ? 'first' : 'second'} are understated; the per-get p50 and the memory are the robust comparisons.`,
    )
    rows.push('')
  }
  rows.push(
    lost.length === 0
      ? 'AlexStorage was ahead of LMDB on every figure above in this run.'
      : `Where LMDB was ahead in this run: ${lost.join('; ')}.`,
  )
  return rows
}

function memoryRows(name: string, d: ReadersDetail): string[] {
  const m = readerMemory(d)
  const rows: string[] = []
  if (m.processStore !== undefined) {
    rows.push(
      `| ${name}, reader process | ${MB(m.processStore)} | ${MB(m.processPrivate)} | ${MB(m.processOverBare)} |`,
    )
  }
  if (m.threadStore !== undefined) {
    rows.push(`| ${name}, reader thread | ${MB(m.threadStore)} | — | ${MB(m.threadTotal)} |`)
  }
  return rows
}

/** How long the writer and the readers of `d` took to open and to warm up, in words. */
function openingText(name: string, d: ReadersDetail): string {
  const open: number[] = []
  const warm: number[] = []
  for (const p of d.phases) {
    open.push(...(p.opens?.openMs ?? []))
    warm.push(...(p.opens?.warmMs ?? []))
  }
  const t = (x: number): string => `${Math.round(x).toLocaleString('en-US')} ms`
  const readers =
    open.length > 0
      ? `a reader ${t(median(open))} to open${d.engine === 'alex' ? ' and catch up' : ''}, ${t(median(warm))} for the warm pass (every ${WARM_STRIDE}th key)`
      : 'no reader opened'
  return `${name}: the writer ${t(d.writerOpenMs)} to open, ${t(d.writerWarmMs)} for the warm pass; ${readers} (${open.length} readers)`
}

/** The generated readers section (without markers); empty string when the workload did not run. */
export function renderReadersReport(results: BenchResults, chartsDir: string): string {
  const details = readersDetails(results)
  if (details.size === 0) return ''
  const alex = details.get('alex')
  const lmdb = details.get('lmdb')
  const any = (alex ?? lmdb)!
  const names = new Map(results.engines.map((e) => [e.id as string, e.name]))
  const L: string[] = []
  const load = results.load
  L.push(
    `Measured ${results.date.slice(0, 10)} with \`${results.command}\`, first repetition only, on ${results.machine.cpu} (${results.machine.cores} cores), ${results.machine.disk}, Node ${results.machine.node}` +
      (load !== undefined
        ? `; load average ${load.before[0]?.toFixed(2)} before the run, ${load.after[0]?.toFixed(2)} after${Math.max(load.before[0] ?? 0, load.after[0] ?? 0) > results.machine.cores ? ' — **the machine was busy: other work competed with the readers**' : ''}`
        : '') +
      '.' +
      ` ${formatCount(any.keys)} keys, ${any.valueSize}-byte values; the writer does ${formatCount(any.writeRate)} durable puts/s (each awaited; AlexStorage \`sync: 'always'\`, LMDB each commit fsynced) in every phase; each phase warms up for ${any.warmupMs} ms, then measures ${any.windowMs} ms.` +
      ` Every value read was checked against the values written (${formatCount([...details.values()].reduce((s, d) => s + d.verified, 0))} values): ${results.correct ? 'all correct' : '**MISMATCHES FOUND**'}.` +
      ` The workload took ${[...details.values()].map((d) => `${Math.round(d.wallMs / 1e3)} s for ${names.get(d.engine) ?? d.engine}`).join(' and ')}.`,
  )
  if (results.config.quick)
    L.push('', '**This is a --quick smoke run: tiny scale, figures mean nothing.**')
  const slow = [...details.values()].flatMap((d) =>
    d.phases
      .filter((p) => p.putsPerSec < 0.9 * d.writeRate)
      .map(
        (p) => `${names.get(d.engine) ?? d.engine}, ${phaseLabel(p)} (${formatRate(p.putsPerSec)})`,
      ),
  )
  const others = [...details.values()].flatMap((d) => d.phases.map((p) => p.otherCores ?? 0))
  const worst = Math.max(0, ...others)
  if (worst >= 0.25) {
    L.push('')
    L.push(
      `**Other processes of the machine kept up to ${worst.toFixed(2)} of its ${results.machine.cores} cores busy during the windows** (median ${median(others).toFixed(2)}; last column of the table below): the readers and the writer had that much less CPU than the machine has.`,
    )
  }
  if (slow.length > 0) {
    L.push('')
    L.push(
      `**The writer did not keep its ${formatCount(any.writeRate)} puts/s in ${slow.length} phase${slow.length === 1 ? '' : 's'}** — ${slow.join('; ')}: its puts waited for CPU (the put-latency ratios of those phases measure the machine as much as the store).`,
    )
  }
  L.push('')
  L.push(`![Readers following a live writer](${chartsDir}/readers.svg)`)
  if (alex !== undefined) {
    L.push('')
    L.push('Issue #11’s targets for AlexStorage, each from figures of this run:')
    L.push('')
    L.push('| what | target | measured | from | |')
    L.push('| --- | ---: | ---: | --- | --- |')
    for (const t of readersTargets(alex)) {
      L.push(`| ${t.what} | ${t.target} | ${targetCell(t)} | ${t.detail} | ${verdict(t)} |`)
    }
  }
  L.push('')
  L.push(
    '| configuration | reads/s, all readers | each reader | get p50 | get p99 | writer’s puts/s | put p50 | put p99 | staleness p50 | staleness p99 | other processes’ cores |',
  )
  L.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const d of details.values()) {
    for (const p of d.phases) L.push(`| ${phaseRow(names.get(d.engine) ?? d.engine, p)} |`)
  }
  L.push('')
  L.push(
    `Opening, at ${formatCount(any.keys)} keys (medians): ${[...details.values()].map((d) => openingText(names.get(d.engine) ?? d.engine, d)).join('; ')}.`,
  )
  L.push('')
  L.push(
    '| reader | extra RSS per reader | extra private memory per reader | whole reader process over a bare `node` |',
  )
  L.push('| --- | ---: | ---: | ---: |')
  for (const d of details.values()) L.push(...memoryRows(names.get(d.engine) ?? d.engine, d))
  if (alex !== undefined && lmdb !== undefined) {
    L.push('')
    L.push('| AlexStorage against LMDB, same run | AlexStorage | LMDB | better |')
    L.push('| --- | ---: | ---: | --- |')
    L.push(...versusRows(alex, lmdb))
  }
  L.push('')
  L.push(
    '- **other processes’ cores**: the machine’s busy share over the window (/proc/stat) times its cores, less the CPU time of the writer’s and the readers’ processes over the same window: what the rest of the machine took.',
  )
  L.push(
    '- **reads/s, all readers**: the sum of each reader’s gets per second over the window (each reader’s own count and time); every 8th get is timed for the percentiles. **Staleness**: for each durable put and each reader, the time from the put’s acknowledgement in the writer to the first moment the reader showed it (AlexStorage: `reader.lsn` reached the LSN the writer showed after the put; LMDB: a sequence number the writer puts in the same transaction), on one clock shared by every process (`process.hrtime.bigint()`, CLOCK_MONOTONIC); a reader looks after every 64 gets, so the figures include up to one such chunk. Puts acknowledged in the window’s last 100 ms are left out; a put no reader had shown by the end counts with the time it had waited and is reported as unseen.',
  )
  L.push(
    '- **Memory**: per reader process, its RSS minus that of a process of the same pool that has not opened the store (same start, same data set, both read at the same moment after a full GC), in the widest phase that still had such a process: the index the reader rebuilt and the values it cached; the same for private memory (RSS also counts pages of mapped files, such as LMDB’s map, which every process shares through the page cache); “whole reader over a bare `node`”: a reader process’s RSS minus a bare `node -e` process’s, harness included (the data set it rebuilds to check values, about 12 bytes per key plus 1 MiB, and the TypeScript loader). Per reader thread: the writer process’s RSS growth per added reader thread over the thread phases, every isolate having collected its garbage, and with each idle worker’s own cost (its isolate, modules and the harness’s data).',
  )
  L.push(
    `- With ${results.machine.cores} cores, a writer and ${results.machine.cores} busy readers already want every core: more readers share the same cores, so the aggregate cannot grow beyond ${results.machine.cores} readers’ worth and the writer and the readers’ following wait for CPU.`,
  )
  return L.join('\n')
}

/** The terminal summary: every phase on one line, then the targets. Empty when not run. */
export function renderReadersText(results: BenchResults): string {
  const details = readersDetails(results)
  if (details.size === 0) return ''
  const names = new Map(results.engines.map((e) => [e.id as string, e.name]))
  const any = [...details.values()][0]!
  const L: string[] = [
    '',
    `Readers following a live writer (${formatCount(any.writeRate)} durable puts/s; ${any.windowMs} ms windows; first repetition only):`,
  ]
  for (const d of details.values()) {
    for (const p of d.phases) {
      const reads = p.reads > 0 ? `reads ${formatRate(p.readsPerSec).padStart(9)}` : ' '.repeat(15)
      const stale =
        p.staleness !== undefined
          ? `  staleness p50 ${ms(p.staleness.p50)} p99 ${ms(p.staleness.p99)}`
          : ''
      L.push(
        `  ${(names.get(d.engine) ?? d.engine).padEnd(12)} ${phaseLabel(p).padEnd(34)} ${reads}  puts ${formatRate(p.putsPerSec).padStart(7)} p50 ${formatNs(p.putLatency.p50).padStart(8)} p99 ${formatNs(p.putLatency.p99).padStart(8)}${stale}`,
      )
    }
  }
  const alex = details.get('alex')
  if (alex !== undefined) {
    L.push('issue #11 targets (AlexStorage, this run):')
    for (const t of readersTargets(alex)) {
      L.push(
        `  ${t.what.padEnd(58)} ${t.target.padStart(8)}  ${targetCell(t).padStart(9)}  ${t.ok === undefined ? 'not measured' : t.ok ? 'met' : 'MISSED'}`,
      )
    }
  }
  return L.join('\n')
}
