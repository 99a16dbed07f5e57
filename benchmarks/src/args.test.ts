import { engineIds } from '@alex/compare'
import { describe, expect, it } from 'vitest'
import { formatScale, parseArgs, parseScale, QUICK_SCALE } from './args.js'
import { DEFAULT_WORKLOADS, WORKLOAD_IDS } from './workloads.js'

describe('parseArgs', () => {
  it('defaults to the 1M default suite over every available engine', () => {
    const o = parseArgs([])
    expect(o.scale).toBe(1_000_000)
    expect(o.reps).toBe(3)
    expect(o.valueSize).toBe(128)
    expect(o.engines).toEqual(engineIds)
    expect(o.workloads).toEqual(DEFAULT_WORKLOADS)
    expect(o.durability).toBe('default')
    expect(o.report).toBe(true)
    expect(o.publish).toBe(false)
    expect(o.dryRun).toBe(false)
    expect(parseArgs(['--dry-run']).dryRun).toBe(true)
  })

  it('--quick runs every workload on a tiny scale once', () => {
    const o = parseArgs(['--quick'])
    expect(o.scale).toBe(QUICK_SCALE)
    expect(o.reps).toBe(1)
    expect(o.workloads).toEqual(WORKLOAD_IDS)
  })

  it('parses lists, scales and values, in canonical workload order', () => {
    const o = parseArgs([
      '--engines=map,leveldb',
      '--workloads',
      'durable-put,read-uniform',
      '--scale',
      '100k',
      '--reps=5',
      '--value-size',
      '64',
      '--distribution',
      'lognormal',
      '--durability',
      'durable',
      '--no-report',
    ])
    expect(o.engines).toEqual(['map', 'leveldb'])
    expect(o.workloads).toEqual(['read-uniform', 'durable-put'])
    expect(o.scale).toBe(100_000)
    expect(o.reps).toBe(5)
    expect(o.valueSize).toBe(64)
    expect(o.distribution).toBe('lognormal')
    expect(o.durability).toBe('durable')
    expect(o.report).toBe(false)
  })

  it('rejects unknown flags and values with the accepted ones', () => {
    expect(() => parseArgs(['--fast'])).toThrow(/unknown argument/)
    expect(() => parseArgs(['--engines', 'oracle'])).toThrow(/known: /)
    expect(() => parseArgs(['--workloads', 'tpcc'])).toThrow(/known: /)
    expect(() => parseArgs(['--reps', '0'])).toThrow(/positive integer/)
    expect(() => parseArgs(['--scale'])).toThrow(/needs a value/)
    expect(() => parseArgs(['--durability', 'maybe'])).toThrow(/durability/)
  })

  it('reads and writes scales', () => {
    expect(parseScale('10m')).toBe(10_000_000)
    expect(parseScale('250000')).toBe(250_000)
    expect(() => parseScale('ten')).toThrow()
    expect(() => parseScale('10')).toThrow(/at least/)
    expect(formatScale(1_000_000)).toBe('1m')
    expect(formatScale(100_000)).toBe('100k')
    expect(formatScale(2500)).toBe('2500')
  })
})
