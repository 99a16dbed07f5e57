import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AlexStorage } from '@alex/storage'
import { GATEWAY_SCRIPT, gatewayDescribe } from '@alex/test-support/s3-gateway'
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  cli,
  hashDir,
  parseLines,
  type Result,
  readAll,
  removeTempDirs,
  startCli,
  startWriter,
  tempDir,
} from './helpers.js'

/**
 * `replicate`, `restore` and `replica-status` against the real S3 gateway (Ceph radosgw from
 * scripts/s3-gateway.sh, brought up under CI by test/s3-gateway-setup.ts). When it is not up the
 * gateway suites are skipped with the reason (and fail under CI); the usage errors and the
 * unreachable endpoint need no gateway and always run.
 */

const gateway = inject('cliS3Gateway')
// The SDK's notice that its 2027 releases need Node 22, printed once by this process's client.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
const ci = process.env.CI === 'true'
const BUCKET = 'alex-cli-test'
/** A port nothing listens on: connections are refused at once. */
const NOWHERE = 'http://127.0.0.1:1'
const FAKE_CREDENTIALS = {
  S3_ACCESS_KEY_ID: 'test',
  S3_SECRET_ACCESS_KEY: 'test',
  S3_REGION: 'us-east-1',
  S3_FORCE_PATH_STYLE: 'true',
}

afterAll(removeTempDirs)

/** A prefix of its own for each test. */
function prefix(name: string): string {
  return `cli-${name}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

const text = (s: string) => new TextEncoder().encode(s)

/** What a store holds, as `readAll` gives it. */
type Model = Map<number, string>

/** Writes to the store in `dir` (opened as its writer) and returns its LSN after. */
async function write(
  dir: string,
  model: Model,
  body: (db: AlexStorage, model: Model) => Promise<void>,
  options: { logRetainBytes?: number } = {},
): Promise<number> {
  const db = await AlexStorage.open(dir, options)
  try {
    await body(db, model)
    return db.lsn
  } finally {
    await db.close()
  }
}

async function put(db: AlexStorage, model: Model, key: number, value: string): Promise<void> {
  await db.put(key, text(value))
  model.set(key, value)
}

async function del(db: AlexStorage, model: Model, key: number): Promise<void> {
  await db.delete(key)
  model.delete(key)
}

/** Puts, overwrites and deletes: 200 keys in batches, then changes one at a time. */
async function fill(db: AlexStorage, model: Model): Promise<void> {
  for (let start = 0; start < 200; start += 50) {
    const ops = Array.from({ length: 50 }, (_, i) => ({
      type: 'put' as const,
      key: start + i,
      value: text(`v${start + i}`),
    }))
    await db.batch(ops)
    for (const op of ops) model.set(op.key, `v${op.key}`)
  }
  for (let key = 10; key < 20; key++) await del(db, model, key)
  for (let key = 0; key < 5; key++) await put(db, model, key, `again-${key}`)
}

/** A model as `readAll` returns a store: [key, value as text] pairs in key order. */
function entries(model: Model): [number, string][] {
  return [...model].sort(([a], [b]) => a - b)
}

function json(result: Result): Record<string, unknown> {
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  return JSON.parse(result.stdout) as Record<string, unknown>
}

/** Expects exit `code` and exactly one stderr line starting with the error code. */
function expectError(result: Result, code: number, error: string): string {
  expect(result.code, result.stderr).toBe(code)
  const lines = result.stderr.trimEnd().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(new RegExp(`^alexstorage: ${error}: `))
  return lines[0]!
}

/** Resolves once `condition` holds, polling; the test timeout is the backstop. */
async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 200))
}

/** A failure of the connection, not of the command: the shared gateway is restarting. */
const TRANSIENT = /ECONNREFUSED|ECONNRESET|socket hang up|EPIPE|HTTP 50[234]/

/** Whether the gateway answers S3 (`scripts/s3-gateway.sh status`). */
async function gatewayUp(): Promise<boolean> {
  return spawnSync('bash', [GATEWAY_SCRIPT, 'status'], { stdio: 'ignore' }).status === 0
}

/**
 * Runs a command against the gateway. The gateway is shared: the replication package's
 * acceptance tests stop and start it (in CI, in parallel with these), so a command that could not
 * connect is run again once the gateway answers (at most 5 times); any other outcome is returned.
 */
async function onGateway(args: string[]): Promise<Result> {
  for (let attempt = 1; ; attempt++) {
    const result = await cli(args)
    if (attempt >= 5 || result.code === 0 || !TRANSIENT.test(result.stderr)) return result
    await waitFor(gatewayUp)
  }
}

describe('replication commands: usage', () => {
  it('refuses a missing option, a bad number or endpoint, half a credential pair', async () => {
    expectError(await cli(['replicate', tempDir(), '--prefix', 'p']), 2, 'ERR_USAGE')
    expectError(await cli(['restore', '--bucket', 'b', '--prefix', 'p']), 2, 'ERR_USAGE')
    expectError(await cli(['replica-status', '--bucket', 'b']), 2, 'ERR_USAGE')
    const dest = join(tempDir(), 'r')
    const bad = await cli(['restore', dest, '--bucket', 'b', '--prefix', 'p', '--to-lsn', 'x'])
    expect(expectError(bad, 2, 'ERR_USAGE')).toContain('--to-lsn')
    const ftp = await cli([
      'replica-status',
      '--bucket',
      'b',
      '--prefix',
      'p',
      '--endpoint',
      'ftp://x',
    ])
    expect(expectError(ftp, 2, 'ERR_USAGE')).toContain('ftp://x')
    const half = await cli(['replica-status', '--bucket', 'b', '--prefix', 'p'], undefined, {
      S3_ACCESS_KEY_ID: 'id',
      S3_SECRET_ACCESS_KEY: '',
    })
    expect(expectError(half, 2, 'ERR_USAGE')).toContain('S3_SECRET_ACCESS_KEY')
    const interval = await cli([
      'replicate',
      tempDir(),
      '--bucket',
      'b',
      '--prefix',
      'p',
      '--interval-ms',
      '0',
    ])
    expectError(interval, 2, 'ERR_USAGE')
    expect(existsSync(dest)).toBe(false)
  })

  it('refuses what is not a store, and a destination that is not empty, before any request', async () => {
    // The endpoint refuses connections: a request would fail with ERR_REPLICATION_OBJECT_STORE.
    const where = ['--bucket', 'b', '--prefix', 'p', '--endpoint', NOWHERE]
    const missing = join(tempDir(), 'missing')
    expectError(
      await cli(['replicate', missing, ...where], undefined, FAKE_CREDENTIALS),
      2,
      'ERR_NOT_A_STORE',
    )
    const full = tempDir()
    writeFileSync(join(full, 'keep'), 'x')
    const before = hashDir(full)
    const restored = await cli(['restore', full, ...where], undefined, FAKE_CREDENTIALS)
    expect(expectError(restored, 2, 'ERR_INVALID_ARGUMENT')).toContain('not empty')
    expect(hashDir(full)).toEqual(before)
  })

  it('documents the writer lock and the S3 settings in --help', async () => {
    const help = await cli(['replicate', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain("holds the writer's lock")
    expect(help.stdout).toContain('replicate(db')
    for (const name of [
      'S3_ENDPOINT',
      'AWS_ACCESS_KEY_ID',
      'S3_FORCE_PATH_STYLE',
      '--interval-ms',
    ]) {
      expect(help.stdout).toContain(name)
    }
    const restore = await cli(['restore', '--help'])
    expect(restore.stdout).toContain('--to-lsn')
    const status = await cli(['replica-status', '--help'])
    expect(status.stdout).toContain('--replica')
    const top = await cli(['--help'])
    for (const name of ['replicate', 'restore', 'replica-status'])
      expect(top.stdout).toContain(name)
  })
})

describe('replication commands: an unreachable object store', () => {
  const where = ['--bucket', BUCKET, '--prefix', 'p', '--endpoint', NOWHERE]

  it('replicate fails at once with one line and exit 2, before opening the store', async () => {
    const dir = join(tempDir(), 'db')
    await write(dir, new Map(), fill)
    const before = hashDir(dir)
    const result = await cli(['replicate', dir, ...where], undefined, FAKE_CREDENTIALS)
    const line = expectError(result, 2, 'ERR_REPLICATION_OBJECT_STORE')
    expect(line).toContain(NOWHERE)
    expect(line).toContain('ECONNREFUSED')
    expect(line).toContain('--endpoint')
    expect(result.stdout).toBe('')
    expect(hashDir(dir)).toEqual(before)
  })

  it('restore and replica-status fail with one line and exit 2; restore creates nothing', async () => {
    const dest = join(tempDir(), 'restored')
    const restored = await cli(['restore', dest, ...where], undefined, FAKE_CREDENTIALS)
    expect(expectError(restored, 2, 'ERR_REPLICATION_OBJECT_STORE')).toContain('ECONNREFUSED')
    expect(existsSync(dest)).toBe(false)
    const status = await cli(['replica-status', ...where, '--json'], undefined, FAKE_CREDENTIALS)
    expect(expectError(status, 2, 'ERR_REPLICATION_OBJECT_STORE')).toContain('ECONNREFUSED')
    expect(status.stdout).toBe('')
  })
})

/** `describe` for the suites that need the gateway (skipped with the reason, failed under CI). */
const describeOnGateway = gatewayDescribe({ describe, it }, gateway, ci)

describeOnGateway('replication commands against the S3 gateway', () => {
  let where: (p: string) => string[]

  beforeAll(async () => {
    if (gateway.state !== 'up') return
    // The commands take the gateway's S3_* settings from the environment, as a user's shell.
    Object.assign(process.env, gateway.env)
    where = (p) => ['--bucket', BUCKET, '--prefix', p]
    const client = new S3Client({
      endpoint: gateway.env.S3_ENDPOINT!,
      region: gateway.env.S3_REGION ?? 'us-east-1',
      forcePathStyle: true,
      credentials: {
        accessKeyId: gateway.env.S3_ACCESS_KEY_ID!,
        secretAccessKey: gateway.env.S3_SECRET_ACCESS_KEY!,
      },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    })
    await client.send(new CreateBucketCommand({ Bucket: BUCKET })).catch((error: Error) => {
      if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') {
        throw error
      }
    })
    client.destroy()
  })

  const status = async (p: string, ...extra: string[]) =>
    json(await onGateway(['replica-status', ...where(p), '--json', ...extra]))

  it('replicate ships until SIGTERM; restore rebuilds the same store; replica-status reports it', async () => {
    const dir = join(tempDir(), 'db')
    const model: Model = new Map()
    const lsn = await write(dir, model, fill)
    const p = prefix('ship')
    await waitFor(gatewayUp)
    const running = startCli(['replicate', dir, ...where(p), '--interval-ms', '100', '--json'])
    try {
      // Shipping is done when the bucket holds the store's last LSN, as replica-status reads it.
      await waitFor(async () => {
        if (running.child.exitCode !== null)
          throw new Error(`replicate exited: ${running.stderr()}`)
        const r = await onGateway(['replica-status', ...where(p), '--json'])
        return r.code === 0 && JSON.parse(r.stdout).newestLsn === lsn
      })
    } finally {
      running.child.kill('SIGTERM')
    }
    expect(await running.exited).toEqual({ code: 0, signal: null })
    expect(running.stderr()).toBe('')
    const events = parseLines(running.stdout()) as Record<string, unknown>[]
    expect(events[0]).toMatchObject({ event: 'start', bucket: BUCKET, prefix: p })
    expect(events.slice(1, -1).every((e) => e.event === 'stats')).toBe(true)
    expect(events.at(-1)).toMatchObject({
      event: 'stop',
      state: 'closed',
      shippedLsn: lsn,
      lsn,
      lagLsn: 0,
      failures: 0,
      lastError: null,
    })
    expect(events.at(-1)!.snapshotsShipped).toBeGreaterThanOrEqual(1)

    const dest = join(tempDir(), 'restored')
    const restored = json(await onGateway(['restore', dest, ...where(p), '--json']))
    expect(restored).toMatchObject({ dir: dest, bucket: BUCKET, prefix: p, lsn })
    expect(restored.lineage).toMatch(/^[0-9a-f]{32}$/)
    expect(restored.objects).toBe((restored.logObjects as number) + 1)
    expect(restored.bytes).toBeGreaterThan(0)
    expect(await readAll(dest)).toEqual(entries(model))

    const s = await status(p, '--replica', dest)
    expect(s).toMatchObject({ bucket: BUCKET, prefix: `${p}/`, newestLsn: lsn })
    expect(s.lineage).toBe(restored.lineage)
    expect(s.logObjects).toBeGreaterThanOrEqual(1)
    expect(s.snapshots).toEqual([expect.objectContaining({ lsn })])
    expect(s.ageMs).toBeGreaterThanOrEqual(0)
    expect(s.replica).toMatchObject({ dir: dest, lsn, lagLsn: 0, lagObjects: 0, stalenessMs: 0 })

    // The table says the same.
    const table = await onGateway(['replica-status', ...where(p), '--replica', dest])
    expect(table.code).toBe(0)
    expect(table.stdout).toContain(`newest LSN   ${lsn} `)
    expect(table.stdout).toContain('up to date with the bucket')
  })

  it('SIGTERM right after the start: replicate ships everything before it exits (text output)', async () => {
    const dir = join(tempDir(), 'db')
    const model: Model = new Map()
    const lsn = await write(dir, model, fill)
    const p = prefix('flush')
    // The signal comes as soon as replication started: the first round may not have shipped yet,
    // and the exit's flush must then ship it (the next round would be a minute later).
    await waitFor(gatewayUp)
    const running = startCli(['replicate', dir, ...where(p), '--interval-ms', '60000'])
    await running.until((out) => out.includes('(Ctrl-C to stop)\n'))
    running.child.kill('SIGTERM')
    expect(await running.exited).toEqual({ code: 0, signal: null })
    expect(running.stdout()).toMatch(/^replicating .* to s3:\/\/alex-cli-test\/cli-flush-/)
    expect(running.stdout()).toContain(`stopped: shipped LSN ${lsn} of ${lsn} (lag 0 LSNs`)
    expect((await status(p)).newestLsn).toBe(lsn)
    const dest = join(tempDir(), 'restored')
    json(await onGateway(['restore', dest, ...where(p), '--json']))
    expect(await readAll(dest)).toEqual(entries(model))
  })

  it('restore --to-lsn rebuilds the store at an older LSN; a batch middle and a future LSN are refused', async () => {
    const dir = join(tempDir(), 'db')
    const model: Model = new Map()
    // The store's own writer and replicate's open both keep the log between the two runs, so the
    // writes in between ship as log objects and stay restorable point in time.
    const retain = { logRetainBytes: 64 << 20 }
    const first = await write(dir, model, fill, retain)
    const p = prefix('pitr')
    const once = ['--once', '--json', '--log-retain-bytes', String(64 << 20)]
    const run1 = await onGateway(['replicate', dir, ...where(p), ...once])
    expect(run1.code, run1.stderr).toBe(0)
    expect(parseLines(run1.stdout).at(-1)).toMatchObject({ event: 'stop', shippedLsn: first })

    const models = new Map<number, [number, string][]>([[first, entries(model)]])
    const last = await write(
      dir,
      model,
      async (db, m) => {
        for (let i = 0; i < 30; i++) {
          if (i % 3 === 2) await del(db, m, 100 + i)
          else await put(db, m, 300 + i, `late-${i}`)
          models.set(db.lsn, entries(m))
        }
        await db.batch([
          { type: 'put', key: 1000, value: text('b1') },
          { type: 'put', key: 1001, value: text('b2') },
          { type: 'delete', key: 150 },
        ])
        m.set(1000, 'b1').set(1001, 'b2').delete(150)
        models.set(db.lsn, entries(m))
      },
      retain,
    )
    const run2 = await onGateway(['replicate', dir, ...where(p), ...once])
    expect(run2.code, run2.stderr).toBe(0)
    expect(parseLines(run2.stdout).at(-1)).toMatchObject({ event: 'stop', shippedLsn: last })

    const middle = first + 1 + Math.floor(Math.random() * 30)
    for (const lsn of [first, middle, last]) {
      const dest = join(tempDir(), `at-${lsn}`)
      const restored = json(
        await onGateway(['restore', dest, ...where(p), '--to-lsn', String(lsn), '--json']),
      )
      expect(restored.lsn).toBe(lsn)
      expect(await readAll(dest), `LSN ${lsn}`).toEqual(models.get(lsn))
    }

    const inside = join(tempDir(), 'inside')
    const refused = await onGateway(['restore', inside, ...where(p), '--to-lsn', String(last - 1)])
    expect(expectError(refused, 2, 'ERR_REPLICATION_INVALID_ARGUMENT')).toContain(String(last - 1))
    expect(existsSync(inside)).toBe(false)
    const future = await onGateway(['restore', inside, ...where(p), '--to-lsn', String(last + 100)])
    expectError(future, 2, 'ERR_REPLICATION_INVALID_ARGUMENT')
    expect(existsSync(inside)).toBe(false)

    // A replica restored at the middle LSN is behind the bucket by the rest.
    const replica = join(tempDir(), 'replica')
    json(await onGateway(['restore', replica, ...where(p), '--to-lsn', String(middle), '--json']))
    const s = await status(p, '--replica', replica)
    expect(s.newestLsn).toBe(last)
    expect(s.replica).toMatchObject({ lsn: middle, lagLsn: last - middle })
    expect((s.replica as { lagObjects: number }).lagObjects).toBeGreaterThanOrEqual(1)
    expect((s.replica as { stalenessMs: number }).stalenessMs).toBeGreaterThanOrEqual(0)
  })

  it('a restore that crosses a resync is refused as a gap (exit 1)', async () => {
    const dir = join(tempDir(), 'db')
    const model: Model = new Map()
    const first = await write(dir, model, fill)
    const p = prefix('gap')
    expect((await onGateway(['replicate', dir, ...where(p), '--once'])).code).toBe(0)
    // Written without keeping the log: the next run ships them through a resync and a snapshot.
    const last = await write(dir, model, async (db, m) => {
      for (let i = 0; i < 5; i++) await put(db, m, 500 + i, `x${i}`)
    })
    expect((await onGateway(['replicate', dir, ...where(p), '--once'])).code).toBe(0)
    const dest = join(tempDir(), 'gap')
    const gap = await onGateway(['restore', dest, ...where(p), '--to-lsn', String(first + 2)])
    expectError(gap, 1, 'ERR_REPLICATION_GAP')
    expect(existsSync(dest)).toBe(false)
    json(await onGateway(['restore', dest, ...where(p), '--json']))
    expect(await readAll(dest)).toEqual(entries(model))
    expect((await status(p)).newestLsn).toBe(last)
  })

  it('maps refusals to one line and an exit code: locked, fenced, nothing there, no such bucket, not a replica', async () => {
    const dir = join(tempDir(), 'db')
    await write(dir, new Map(), fill)
    const p = prefix('refusals')

    const writer = await startWriter(dir, 10)
    try {
      const locked = await onGateway(['replicate', dir, ...where(p)])
      expect(expectError(locked, 2, 'ERR_LOCKED')).toContain('replicate(db')
    } finally {
      await writer.stop()
    }

    expect((await onGateway(['replicate', dir, ...where(p), '--once'])).code).toBe(0)
    // Another store on the same prefix is fenced: its history is not the bucket's.
    const other = join(tempDir(), 'other')
    await write(other, new Map(), async (db) => {
      await db.put(1, text('other'))
    })
    const fenced = await onGateway(['replicate', other, ...where(p), '--once'])
    expectError(fenced, 2, 'ERR_REPLICATION_FENCED')

    const nothing = prefix('nothing')
    expectError(
      await onGateway(['replica-status', ...where(nothing)]),
      2,
      'ERR_REPLICATION_NOT_FOUND',
    )
    const dest = join(tempDir(), 'none')
    expectError(
      await onGateway(['restore', dest, ...where(nothing)]),
      2,
      'ERR_REPLICATION_NOT_FOUND',
    )
    expect(existsSync(dest)).toBe(false)

    const noBucket = await onGateway([
      'replicate',
      dir,
      '--bucket',
      'alex-cli-no-such-bucket',
      '--prefix',
      p,
    ])
    expect(expectError(noBucket, 2, 'ERR_REPLICATION_OBJECT_STORE')).toContain('does not exist')

    const empty = tempDir()
    mkdirSync(join(empty, 'sub'))
    const notReplica = await onGateway(['replica-status', ...where(p), '--replica', empty])
    expectError(notReplica, 2, 'ERR_NOT_A_REPLICA')
  })
})
