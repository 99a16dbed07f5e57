import { describe, expect, it } from 'vitest'
import { buildSubtree, type LinkContext, prepareInput } from './bulk-load.js'
import { checkInvariants } from './invariants.js'
import { domainOf } from './linear-model.js'
import { resolveOptions } from './options.js'

describe('bulk-load', () => {
  it('uses sorted Float64Array input without copying', () => {
    const keys = Float64Array.from([1, 2, 3])
    const payloads = Float64Array.from([4, 5, 6])
    const p = prepareInput(keys, payloads)
    expect(p.keys).toBe(keys)
    expect(p.payloads).toBe(payloads)
    expect(p.count).toBe(3)
  })

  it('sorts unsorted input, normalizes -0 and lets the last duplicate win', () => {
    const p = prepareInput([3, -0, 1, 3, 0], [30, 1, 10, 31, 2])
    expect([...p.keys.subarray(0, p.count)]).toEqual([0, 1, 3])
    expect(Object.is(p.keys[0], 0)).toBe(true)
    expect([...p.payloads.subarray(0, p.count)]).toEqual([2, 10, 31])
  })

  it('rejects invalid keys, payloads and mismatched lengths', () => {
    for (const k of [Number.NaN, Number.POSITIVE_INFINITY, '1', 1n, undefined]) {
      expect(() => prepareInput([1, k as number], [1, 2])).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_KEY' }),
      )
    }
    expect(() => prepareInput([1, 2], [1, '2' as never])).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_VALUE' }),
    )
    expect(() => prepareInput([1, 2], [1])).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_VALUE' }),
    )
    expect(() => prepareInput(5 as never, [])).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_KEY' }),
    )
  })

  it('builds a linked, routable subtree, forced to a model node on request', () => {
    const cfg = resolveOptions({ maxDataNodeSlots: 64 })
    const n = 5000
    const keys = Float64Array.from({ length: n }, (_, i) => i * i)
    const ctx: LinkContext = { prev: null }
    const root = buildSubtree(keys, keys, 0, n, domainOf(0, keys[n - 1]!, n), 0, cfg, ctx, true)
    expect(root.isData).toBe(false)
    checkInvariants({ _root: root, _size: n, _cfg: cfg })
  })
})
