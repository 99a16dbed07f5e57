import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Wal, type WalOp } from '../src/index.js'
import { FaultInjectionFileSystem } from '../src/testing.js'
import { collect, expected, type PlainRecord } from './helpers.js'

const DIR = '/db/wal'

type Step =
  | { kind: 'append'; op: WalOp }
  | { kind: 'batch'; ops: WalOp[] }
  | { kind: 'concurrent'; ops: WalOp[] }
  | { kind: 'checkpoint'; back: number }
  | { kind: 'reopen' }
  | { kind: 'crash' }

const keyArb = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
)
const opArb: fc.Arbitrary<WalOp> = fc.oneof(
  fc.record({
    type: fc.constant('put' as const),
    key: keyArb,
    value: fc.uint8Array({ maxLength: 300 }),
  }),
  fc.record({ type: fc.constant('delete' as const), key: keyArb }),
)
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: opArb.map((op) => ({ kind: 'append' as const, op })) },
  {
    weight: 2,
    arbitrary: fc
      .array(opArb, { minLength: 1, maxLength: 6 })
      .map((ops) => ({ kind: 'batch' as const, ops })),
  },
  {
    weight: 2,
    arbitrary: fc
      .array(opArb, { minLength: 1, maxLength: 8 })
      .map((ops) => ({ kind: 'concurrent' as const, ops })),
  },
  { weight: 1, arbitrary: fc.nat(5).map((back) => ({ kind: 'checkpoint' as const, back })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'crash' as const }) },
)

/**
 * Differential test against the simplest model of a log: an array of records and a checkpoint.
 * After any sequence of appends, batches, concurrent appends, checkpoints, clean reopens and
 * process crashes (page cache kept), replay equals the model's records after its checkpoint.
 */
describe('Wal against a model', () => {
  it('replays what the model says, across reopens, crashes and checkpoints', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArb, { maxLength: 40 }),
        fc.constantFrom('always', 'none', 'interval'),
        fc.constantFrom(4096, 8192, 1 << 20),
        async (steps, sync, segmentBytes) => {
          let fs = new FaultInjectionFileSystem()
          const options = { sync, segmentBytes, syncIntervalMs: 1 } as const
          let wal = await Wal.open(DIR, { fs, ...options })
          const model: PlainRecord[] = []
          let checkpoint = 0n
          const check = () => {
            expect(collect(wal)).toEqual(model.filter((r) => r.lsn > checkpoint))
          }
          for (const step of steps) {
            switch (step.kind) {
              case 'append': {
                const lsn = await wal.append(step.op)
                model.push(expected(step.op, lsn))
                break
              }
              case 'batch': {
                const last = await wal.appendBatch(step.ops)
                step.ops.forEach((op, i) => {
                  model.push(expected(op, last - BigInt(step.ops.length - 1 - i)))
                })
                break
              }
              case 'concurrent': {
                const lsns = await Promise.all(step.ops.map((op) => wal.append(op)))
                step.ops.forEach((op, i) => {
                  model.push(expected(op, lsns[i] as bigint))
                })
                break
              }
              case 'checkpoint': {
                const last = wal.lastAppendedLsn
                const lsn =
                  last - BigInt(step.back) > checkpoint ? last - BigInt(step.back) : checkpoint
                await wal.checkpoint(lsn)
                checkpoint = lsn
                break
              }
              case 'reopen':
                await wal.close()
                wal = await Wal.open(DIR, { fs, ...options, recovery: 'absolute-consistency' })
                check()
                break
              case 'crash':
                // SIGKILL: every completed write is in the page cache and survives.
                fs = fs.processCrash()
                wal = await Wal.open(DIR, { fs, ...options, recovery: 'absolute-consistency' })
                check()
                break
            }
            expect(wal.lastAppendedLsn).toBe(model.at(-1)?.lsn ?? wal.lastAppendedLsn)
          }
          await wal.close()
          wal = await Wal.open(DIR, { fs, ...options })
          check()
          // LSNs are strictly increasing and batches contiguous across everything.
          for (let i = 1; i < model.length; i++) {
            expect((model[i] as PlainRecord).lsn).toBe((model[i - 1] as PlainRecord).lsn + 1n)
          }
          await wal.close()
        },
      ),
      { numRuns: 120 },
    )
  })
})
