/**
 * What the diagnostics channels and the metrics cost the writer (issue 13). Three
 * configurations of the same store, interleaved round by round so that the machine's load hits
 * them alike: no subscriber (the default: one `hasSubscribers` check per group write and per
 * maintenance step), a subscriber on every `alexstorage:*` channel (a message built and
 * delivered per group write), and metrics on (`metrics: { meter }`, an OpenTelemetry SDK meter
 * whose reader exports nothing: the recording cost only, including the per-put timing). The
 * build without the checks cannot be measured in the same run, so the baseline is "no
 * subscriber"; a per-operation cost is the difference of the medians' time per operation.
 * Ratios within one run; absolute figures are for orientation only (the machine is shared).
 * Each workload is warmed up once per configuration, untimed; the rounds rotate the order.
 *
 *   npx tsx bench/events-bench.ts [--ops 20000] [--serial 2000] [--fast 100000] [--rounds 5]
 *
 * Workloads: 64 concurrent durable writers (`sync: 'always'`, group commit: one message per
 * group of up to 64 puts), one serial durable writer (one group, so one message, per put), and
 * one serial writer under `sync: 'none'` (a put costs microseconds, so a per-group cost shows
 * most there).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { benchFlags, median } from '@alex/test-support/bench'
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { AlexStorage, type AlexStorageOptions, channels } from '../src/index.js'

const { numbers } = benchFlags(process.argv.slice(2), {
  usage:
    'Usage: npx tsx bench/events-bench.ts [--ops 20000] [--serial 2000] [--fast 100000] [--rounds 5]',
  numbers: { ops: 20_000, serial: 2000, fast: 100_000, rounds: 5 },
})
const ROUNDS = numbers.rounds
const VALUE = new Uint8Array(128).fill(7)
const root = mkdtempSync(join(tmpdir(), 'alex-events-bench-'))
let runs = 0

/** A metric reader that is never collected: what recording costs, without any export. */
class IdleReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

type Mode = 'no subscriber' | 'subscriber' | 'metrics on'
const MODES: Mode[] = ['no subscriber', 'subscriber', 'metrics on']

interface Workload {
  name: string
  ops: number
  options: AlexStorageOptions
  run: (db: AlexStorage, ops: number) => Promise<void>
}

const workloads: Workload[] = [
  {
    name: '64 concurrent durable writers (sync always)',
    ops: numbers.ops,
    options: { sync: 'always' },
    run: async (db, ops) => {
      let next = 0
      const caller = async () => {
        for (let i = next++; i < ops; i = next++) await db.put(i, VALUE)
      }
      await Promise.all(Array.from({ length: 64 }, caller))
    },
  },
  {
    name: 'one serial durable writer (sync always)',
    ops: numbers.serial,
    options: { sync: 'always' },
    run: async (db, ops) => {
      for (let i = 0; i < ops; i++) await db.put(i, VALUE)
    },
  },
  {
    name: "one serial writer (sync 'none')",
    ops: numbers.fast,
    options: { sync: 'none' },
    run: async (db, ops) => {
      for (let i = 0; i < ops; i++) await db.put(i, VALUE)
    },
  },
]

/** Puts per second of `w` in `mode`; the subscriber counts what it receives. */
async function measure(w: Workload, mode: Mode): Promise<number> {
  let received = 0
  const onMessage = () => {
    received++
  }
  const names = Object.values(channels)
  if (mode === 'subscriber') for (const name of names) subscribe(name, onMessage)
  const provider = mode === 'metrics on' ? new MeterProvider({ readers: [new IdleReader()] }) : null
  const options: AlexStorageOptions = { ...w.options, autoCompaction: false }
  if (provider !== null) options.metrics = { meter: provider.getMeter('bench') }
  const db = await AlexStorage.open(join(root, `db-${runs++}`), options)
  try {
    const t0 = performance.now()
    await w.run(db, w.ops)
    const seconds = (performance.now() - t0) / 1000
    if (mode === 'subscriber' && received === 0) throw new Error('the subscriber got nothing')
    return w.ops / seconds
  } finally {
    await db.close()
    if (mode === 'subscriber') for (const name of names) unsubscribe(name, onMessage)
    await provider?.shutdown()
    rmSync(db.dir, { recursive: true, force: true })
  }
}

async function compare(w: Workload): Promise<void> {
  const rates = new Map<Mode, number[]>(MODES.map((m) => [m, []]))
  // Warm-up (the JIT, the file system), untimed; then each round in a rotated order, so that no
  // mode always runs first.
  for (const mode of MODES) await measure({ ...w, ops: Math.ceil(w.ops / 4) }, mode)
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < MODES.length; i++) {
      const mode = MODES[(r + i) % MODES.length]!
      rates.get(mode)!.push(await measure(w, mode))
    }
  }
  const base = median(rates.get('no subscriber')!)
  console.log(`${w.name}: ${w.ops} puts of ${VALUE.length} B, median of ${ROUNDS}`)
  for (const mode of MODES) {
    const all = rates.get(mode)!
    const rate = median(all)
    const low = Math.round(Math.min(...all)).toLocaleString('en')
    const high = Math.round(Math.max(...all)).toLocaleString('en')
    let line = `  ${mode.padEnd(14)} ${Math.round(rate).toLocaleString('en').padStart(9)} puts/s`
    line += `  (rounds ${low} to ${high})`
    if (mode !== 'no subscriber') {
      const perOpUs = (1 / rate - 1 / base) * 1e6
      line += `  ratio ${(rate / base).toFixed(3)}, ${perOpUs >= 0 ? '+' : ''}${perOpUs.toFixed(2)} µs/put`
    }
    console.log(line)
  }
}

async function main(): Promise<void> {
  try {
    for (const w of workloads) await compare(w)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

void main()
