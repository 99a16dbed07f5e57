import { describe, expect, it } from 'vitest'
import { AlexIndex } from './alex-index.js'
import {
  type Cursor,
  leafFor,
  leftmostLeaf,
  rightmostLeaf,
  seekBackward,
  seekForward,
} from './navigate.js'

const lastWhere = (xs: number[], ok: (x: number) => boolean) => [...xs].reverse().find(ok)

describe('navigate', () => {
  const keys = Array.from({ length: 2000 }, (_, i) => i * 10)
  const ix = AlexIndex.from(keys, keys, { maxDataNodeSlots: 32 })
  const c: Cursor = { leaf: null, pos: 0 }
  const at = () => (c.leaf === null ? undefined : c.leaf.kv[2 * c.pos])

  it('finds the first and last leaves and the leaf of a key', () => {
    expect(leftmostLeaf(ix._root).kv[0]).toBe(0)
    const last = rightmostLeaf(ix._root)
    expect(last.next).toBeNull()
    expect(last.kv[2 * last.maxPos]).toBe(19990)
    const leaf = leafFor(ix._root, 12340)
    expect(leaf.kv.includes(12340)).toBe(true)
  })

  it('seeks forward and backward with inclusive and exclusive bounds, across leaves', () => {
    for (const k of [-5, 0, 5, 10, 12345, 19990, 19995, 1e300, Number.NEGATIVE_INFINITY]) {
      seekForward(ix._root, k, true, c)
      expect(at()).toBe(keys.find((x) => x >= k))
      seekForward(ix._root, k, false, c)
      expect(at()).toBe(keys.find((x) => x > k))
      seekBackward(ix._root, k, true, c)
      expect(at()).toBe(lastWhere(keys, (x) => x <= k))
      seekBackward(ix._root, k, false, c)
      expect(at()).toBe(lastWhere(keys, (x) => x < k))
    }
    seekBackward(ix._root, Number.POSITIVE_INFINITY, true, c)
    expect(at()).toBe(19990)
  })
})
