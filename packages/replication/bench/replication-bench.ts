/**
 * Replication to object storage (issue #15), against the real gateway (scripts/s3-gateway.sh, a
 * Ceph radosgw on 127.0.0.1; its S3_* settings from `scripts/s3-gateway.sh env`):
 *
 *   npx tsx bench/replication-bench.ts [--rounds 4] [--per-writer 1500] [--interval 1000]
 *
 * 1. The writer's cost: 64 concurrent durable writers (each awaiting its puts, 128-byte values,
 *    `sync: 'always'`) on a fresh store, with replication off, on to the gateway (`replicate()`
 *    with `intervalMs`, default 1 s, shipping to a fresh prefix), and on to an in-memory S3 (the
 *    tests' FakeS3: the replicator's own cost in the writer's process, without the gateway's
 *    daemons competing for the same cores), interleaved round by round (the order rotates):
 *    throughput and put latency p50/p99, and the on/off ratio of each round.
 * 2. Under the same workload with replication on: the lag (`stats().lagLsn` and `lagMs`, sampled
 *    every 100 ms) and the recovery point of every put: the time from its acknowledgement to the
 *    moment the replicator confirmed it in the bucket (what a crash at the acknowledgement could
 *    lose, at most), p50/p99.
 * 3. Restore speed: `restore()` of a store of 200,000 keys x 128 bytes (one snapshot object) and of
 *    one workload round's prefix (a snapshot and the log objects), in MB/s of objects downloaded.
 * 4. Replica staleness: a replica (`openReplica`, polling every `intervalMs`) following the
 *    64-writer workload: the time from each put's acknowledgement until the replica shows it.
 *
 * Figures go to stdout; docs/benchmarks.md has a run. The machine is shared: ratios within one
 * run, variants interleaved, mean nothing absolute.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { AlexStorage } from '@alex/storage'
import { benchFlags, median } from '@alex/test-support/bench'
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import {
  openReplica,
  type Replicator,
  replicate,
  restore,
  type S3ClientLike,
} from '../src/index.js'
import { FakeS3 } from '../test/fake-s3.js'

const USAGE = `Usage: npx tsx bench/replication-bench.ts [--rounds 4] [--per-writer 1500] [--interval 1000]

  --rounds N       interleaved rounds of replication off, on (gateway) and on (memory) (default 4)
  --per-writer N   durable puts per writer in a 64-writer round (default 1500)
  --interval MS    the replicator's and the replica's intervalMs (default 1000, the default)`
const { numbers } = benchFlags(process.argv.slice(2), {
  usage: USAGE,
  numbers: { rounds: 4, 'per-writer': 1500, interval: 1000 },
})
const ROUNDS = numbers.rounds
const PER_WRITER = numbers['per-writer']
const INTERVAL = numbers.interval
const WRITERS = 64
const VALUE = new Uint8Array(128).fill(7)
const BUCKET = 'alex-bench'
const SCRIPT = fileURLToPath(new URL('../../../scripts/s3-gateway.sh', import.meta.url))

/** The gateway's client, from S3_* in the environment or else `s3-gateway.sh env`. */
function gatewayClient(): S3Client {
  let env: Record<string, string | undefined> = process.env
  if (env.S3_ENDPOINT === undefined) {
    try {
      execFileSync('bash', [SCRIPT, 'status'], { stdio: 'ignore' })
    } catch {
      console.error('the S3 gateway is not up: run `bash scripts/s3-gateway.sh start` (as root)')
      process.exit(1)
    }
    const text = execFileSync('bash', [SCRIPT, 'env'], { encoding: 'utf8' })
    env = Object.fromEntries(
      text
        .trim()
        .split('\n')
        .map((l) => l.split('=') as [string, string]),
    )
  }
  return new S3Client({
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION ?? 'us-east-1',
    credentials: { accessKeyId: env.S3_ACCESS_KEY_ID!, secretAccessKey: env.S3_SECRET_ACCESS_KEY! },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
}

const s3 = gatewayClient()
await s3.send(new CreateBucketCommand({ Bucket: BUCKET })).catch((err: { name?: string }) => {
  if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists') throw err
})
const root = mkdtempSync(join(tmpdir(), 'alex-repl-bench-'))
let dirs = 0
const freshDir = () => join(root, `d${dirs++}`)
const freshPrefix = (name: string) =>
  `${name}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`

/** Nearest-rank quantile of an ascending array. */
function q(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}
const sortNum = (xs: number[] | Float64Array) => Float64Array.from(xs).sort()

/** Durations (ms) of the log object PUTs to the gateway during the workload rounds. */
const uploads: number[] = []

/**
 * A client that notes, once each log object PUT answered, the LSN the replicator then confirms:
 * (time, shippedLsn) steps, from which each put's recovery point is read; and, to the gateway,
 * how long each log object PUT took (`uploads`).
 */
function recordingClient(
  inner: S3ClientLike,
  steps: { t: number; lsn: number }[],
  rep: () => Replicator | undefined,
): S3ClientLike {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: the SDK's commands
    async send(command: any, options?: { abortSignal?: AbortSignal }): Promise<any> {
      const t = performance.now()
      const out = await inner.send(command, options)
      if (
        command.constructor.name === 'PutObjectCommand' &&
        String(command.input.Key).includes('/log/')
      ) {
        if (inner === s3) uploads.push(performance.now() - t)
        // The replicator records the shipment in the continuation of this call: read it after.
        setImmediate(() => {
          const r = rep()
          if (r !== undefined) steps.push({ t: performance.now(), lsn: r.stats().shippedLsn })
        })
      }
      return out
    },
  }
}

interface RoundResult {
  putsPerSec: number
  p50: number
  p99: number
  /** With replication on: recovery points (ms), lag samples. */
  recovery?: Float64Array
  lagLsn?: number[]
  lagMs?: number[]
  prefix?: string
}

type Variant = 'off' | 'gateway' | 'memory'

/** 64 durable writers on a fresh store; replicated unless `off`, to a fresh prefix. */
async function round(
  variant: Variant,
  withReplica = false,
): Promise<RoundResult & { staleness?: Float64Array }> {
  const replicated = variant !== 'off'
  const db = await AlexStorage.open(freshDir(), { sync: 'always' })
  const total = WRITERS * PER_WRITER
  const lat = new Float64Array(total)
  const ackAt = new Float64Array(total)
  const ackLsn = new Float64Array(total)
  const steps: { t: number; lsn: number }[] = []
  const prefix = freshPrefix('bench')
  let rep: Replicator | undefined
  if (replicated) {
    rep = await replicate(db, {
      bucket: BUCKET,
      prefix,
      client: recordingClient(variant === 'memory' ? new FakeS3([BUCKET]) : s3, steps, () => rep),
      intervalMs: INTERVAL,
    })
    await rep.flush() // the lineage and the first snapshot are out before the clock starts
  }
  const visible: { t: number; lsn: number }[] = []
  let replica: Awaited<ReturnType<typeof openReplica>> | undefined
  let watch: NodeJS.Timeout | undefined
  if (withReplica) {
    replica = await openReplica(
      { bucket: BUCKET, prefix, client: s3, intervalMs: INTERVAL },
      freshDir(),
    )
    let seen = replica.lsn
    watch = setInterval(() => {
      if (replica!.lsn > seen) {
        seen = replica!.lsn
        visible.push({ t: performance.now(), lsn: seen })
      }
    }, 5)
  }
  const lagLsn: number[] = []
  const lagMs: number[] = []
  const sampler = replicated
    ? setInterval(() => {
        const s = rep!.stats()
        lagLsn.push(s.lagLsn)
        lagMs.push(s.lagMs)
      }, 100)
    : undefined
  let next = 0
  const writer = async (w: number) => {
    for (let i = 0; i < PER_WRITER; i++) {
      const j = next++
      const t = performance.now()
      await db.put(w * PER_WRITER + i, VALUE)
      const done = performance.now()
      lat[j] = done - t
      ackAt[j] = done
      ackLsn[j] = db.lsn // at least this put's LSN: the recovery point is not underestimated
    }
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)))
  const elapsed = performance.now() - t0
  if (sampler !== undefined) clearInterval(sampler)
  const sorted = Float64Array.from(lat).sort()
  const result: RoundResult & { staleness?: Float64Array } = {
    putsPerSec: total / (elapsed / 1000),
    p50: q(sorted, 0.5) * 1000,
    p99: q(sorted, 0.99) * 1000,
  }
  if (rep !== undefined) {
    await rep.flush()
    await new Promise((r) => setImmediate(r))
    steps.push({ t: performance.now(), lsn: rep.stats().shippedLsn })
    result.recovery = sortNum(Array.from(ackAt, (at, j) => firstAt(steps, ackLsn[j]!, at) - at))
    result.lagLsn = lagLsn
    result.lagMs = lagMs
    result.prefix = prefix
  }
  if (replica !== undefined) {
    const want = db.lsn
    while (replica.lsn < want) await new Promise((r) => setTimeout(r, 5))
    clearInterval(watch)
    if (visible.length === 0 || visible[visible.length - 1]!.lsn < want)
      visible.push({ t: performance.now(), lsn: want })
    result.staleness = sortNum(Array.from(ackAt, (at, j) => firstAt(visible, ackLsn[j]!, at) - at))
    await replica.close()
  }
  await rep?.close()
  await db.close()
  return result
}

/** The time of the first step at or after `after` whose LSN reaches `lsn`. */
function firstAt(steps: { t: number; lsn: number }[], lsn: number, after: number): number {
  let lo = 0
  let hi = steps.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (steps[mid]!.lsn >= lsn) hi = mid
    else lo = mid + 1
  }
  return Math.max(steps[lo]!.t, after)
}

const f = (x: number, d = 0) => x.toFixed(d)
console.log(
  `replication bench: ${ROUNDS} rounds x (off, on to the gateway, on to memory), ${WRITERS} writers x ${PER_WRITER} durable puts of 128 bytes, intervalMs ${INTERVAL}; load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} on ${(await import('node:os')).cpus().length} cores`,
)
const started = performance.now()
const results: Record<Variant, RoundResult[]> = { off: [], gateway: [], memory: [] }
const variants: Variant[] = ['off', 'gateway', 'memory']
for (let r = 0; r < ROUNDS; r++) {
  const order = variants.map((_, i) => variants[(i + r) % variants.length]!)
  for (const variant of order) {
    const res = await round(variant)
    results[variant].push(res)
    console.log(
      `  round ${r + 1} ${variant.padEnd(7)}: ${f(res.putsPerSec)} puts/s, p50 ${f(res.p50)} µs, p99 ${f(res.p99)} µs${res.recovery ? `, recovery point p50 ${f(q(res.recovery, 0.5))} ms p99 ${f(q(res.recovery, 0.99))} ms` : ''}`,
    )
  }
}
const off = results.off
const ratio = (on: RoundResult[], pick: (x: RoundResult) => number) =>
  median(on.map((x, i) => pick(x) / pick(off[i]!)))
console.log('\nwriter cost (median over rounds; ratio = median of the per-round on/off ratios):')
for (const variant of ['gateway', 'memory'] as const) {
  const on = results[variant]
  const m = (pick: (x: RoundResult) => number) => median(on.map(pick))
  console.log(`  on (${variant}) vs off:`)
  console.log(
    `    throughput: off ${f(median(off.map((x) => x.putsPerSec)))} puts/s, on ${f(m((x) => x.putsPerSec))} puts/s, on/off ${f(
      ratio(on, (x) => x.putsPerSec),
      3,
    )}`,
  )
  console.log(
    `    put p50: off ${f(median(off.map((x) => x.p50)))} µs, on ${f(m((x) => x.p50))} µs, on/off ${f(
      ratio(on, (x) => x.p50),
      3,
    )}`,
  )
  console.log(
    `    put p99: off ${f(median(off.map((x) => x.p99)))} µs, on ${f(m((x) => x.p99))} µs, on/off ${f(
      ratio(on, (x) => x.p99),
      3,
    )}`,
  )
}
const on = results.gateway
const recovery = sortNum(on.flatMap((x) => [...x.recovery!]))
const lagLsn = sortNum(on.flatMap((x) => x.lagLsn!))
const lagMs = sortNum(on.flatMap((x) => x.lagMs!))
console.log(`\nunder the 64-writer workload, replication on to the gateway (all rounds):`)
const up = sortNum(uploads)
console.log(
  `  log object PUTs, ${up.length}: p50 ${f(q(up, 0.5))} ms, p99 ${f(q(up, 0.99))} ms, max ${f(q(up, 1))} ms`,
)
console.log(
  `  recovery point (ack -> confirmed in the bucket), ${recovery.length} puts: p50 ${f(q(recovery, 0.5))} ms, p99 ${f(q(recovery, 0.99))} ms, max ${f(q(recovery, 1))} ms`,
)
console.log(
  `  lag sampled every 100 ms, ${lagMs.length} samples: lagMs p50 ${f(q(lagMs, 0.5))} p99 ${f(q(lagMs, 0.99))}; lagLsn p50 ${f(q(lagLsn, 0.5))} p99 ${f(q(lagLsn, 0.99))}`,
)

// Restore speed.
async function timedRestore(prefix: string, what: string): Promise<void> {
  const dir = freshDir()
  const t = performance.now()
  const r = await restore({ bucket: BUCKET, prefix, client: s3 }, dir)
  const s = (performance.now() - t) / 1000
  console.log(
    `  ${what}: ${f(r.bytes / 1e6, 1)} MB (${r.logObjects} log objects after the snapshot, LSN ${r.lsn}) in ${f(s, 2)} s: ${f(r.bytes / 1e6 / s, 1)} MB/s`,
  )
  rmSync(dir, { recursive: true, force: true })
}
console.log('\nrestore:')
{
  const db = await AlexStorage.open(freshDir(), { sync: 'none' })
  const keys = 200_000
  const value = new Uint8Array(128).fill(3)
  for (let k = 0; k < keys; k += 10_000) {
    await db.batch(
      Array.from({ length: 10_000 }, (_, i) => ({ type: 'put' as const, key: k + i, value })),
    )
  }
  const prefix = freshPrefix('bench-snap')
  const rep = await replicate(db, { bucket: BUCKET, prefix, client: s3 })
  await rep.flush()
  await rep.close()
  await db.close()
  await timedRestore(prefix, `a snapshot of ${keys} keys x 128 bytes`)
}
await timedRestore(
  on[on.length - 1]!.prefix!,
  `one workload round's prefix (${WRITERS * PER_WRITER} puts)`,
)

// Replica staleness.
const withReplica = await round('gateway', true)
const st = withReplica.staleness!
console.log(
  `\nreplica (intervalMs ${INTERVAL}) following the 64-writer workload (${f(withReplica.putsPerSec)} puts/s):`,
)
console.log(
  `  staleness (ack -> visible on the replica), ${st.length} puts: p50 ${f(q(st, 0.5))} ms, p99 ${f(q(st, 0.99))} ms, max ${f(q(st, 1))} ms`,
)
console.log(
  `\ntook ${f((performance.now() - started) / 1000, 1)} s; load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
)
rmSync(root, { recursive: true, force: true })
s3.destroy()
