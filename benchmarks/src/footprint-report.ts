/**
 * The "Memory and disk" table (issue #14): per engine, the child's peak RSS and the store's
 * bytes on disk, in markdown for the report and in plain text for the terminal. The disk
 * columns show allocated blocks (`du`); the apparent size (`ls -l`) has its own column, since a
 * preallocated map file (LMDB) or a sparse file can make the two differ a lot.
 */
import type { EngineFootprint } from './footprint.js'
import { bytesPerKey, formatBytes } from './footprint.js'
import type { BenchResults } from './results.js'
import { isInMemory } from './results.js'

const HEAD = [
  'engine',
  'peak RSS',
  'harness RSS',
  'on disk after load',
  'bytes per key',
  'on disk after workloads',
  'apparent size after workloads',
] as const

function cells(f: EngineFootprint, name: string): string[] {
  const memoryOnly = isInMemory(f.engine)
  const disk = (bytes: number): string => (memoryOnly ? 'none (in memory)' : formatBytes(bytes))
  return [
    name,
    formatBytes(f.peakRssBytes),
    formatBytes(f.harnessRssBytes),
    disk(f.diskAfterLoad.allocated),
    memoryOnly ? '' : bytesPerKey(f.diskAfterLoad.allocated, f.keysAfterLoad),
    disk(f.diskAfterWorkloads.allocated),
    memoryOnly ? '' : formatBytes(f.diskAfterWorkloads.apparent),
  ]
}

function rows(results: BenchResults): { f: EngineFootprint; name: string }[] {
  const names = new Map(results.engines.map((e) => [e.id as string, e.name]))
  return (results.footprints ?? []).map((f) => ({ f, name: names.get(f.engine) ?? f.engine }))
}

/** The report's "Memory and disk" subsection; empty when the results have no footprints. */
export function renderFootprintSection(results: BenchResults): string {
  const list = rows(results)
  if (list.length === 0) return ''
  const first = list[0]!.f
  const L: string[] = []
  L.push('### Memory and disk')
  L.push('')
  L.push(
    'Peak RSS is the child process’s `maxRSS` (`process.resourceUsage()`) at the end of its run: the engine, ' +
      'the Node.js runtime and the harness together. Harness RSS is the child’s RSS before the store was opened, ' +
      'with the data set, the version array and the value pool built: the part of the peak that is not the engine. ' +
      `Bytes on disk are the store directory’s allocated blocks (\`st_blocks × 512\`, what \`du\` counts), after the load (${first.keysAfterLoad.toLocaleString('en-US')} keys, after its final sync) ` +
      `and after the last workload (${first.keysAfterWorkloads.toLocaleString('en-US')} keys, before the store is closed); bytes per key = after the load ÷ keys loaded. ` +
      'The last column is the apparent size (the files’ lengths, `ls -l`) at the same moment: it is larger for a preallocated file such as LMDB’s map. ' +
      (results.config.reps > 1 ? 'Medians of the repetitions.' : 'One repetition.'),
  )
  L.push('')
  L.push(`| ${HEAD.join(' | ')} |`)
  L.push(`| --- |${' ---: |'.repeat(HEAD.length - 1)}`)
  for (const { f, name } of list) {
    const c = cells(f, isInMemory(f.engine) ? `${name} ¹` : name)
    L.push(`| ${c.join(' | ')} |`)
  }
  return L.join('\n')
}

/** The same table in plain text for the terminal; empty without footprints. */
export function renderFootprintText(results: BenchResults): string {
  const list = rows(results)
  if (list.length === 0) return ''
  const body = list.map(({ f, name }) => cells(f, name))
  const widths = HEAD.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)))
  const pad = (c: readonly string[]): string =>
    c.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ')
  return [
    '',
    'Memory and disk (disk: allocated blocks; last column: apparent size)',
    pad(HEAD),
    ...body.map(pad),
  ].join('\n')
}
