/**
 * Linear models of ALEX nodes, made robust for the whole double range.
 *
 * Every model is evaluated as `((key - base) * scale) * slope` (plus an intercept or an integer
 * offset; model nodes spanning most of the double range first halve the key, see Domain), always
 * in that order, so that the same key always gets the same answer:
 * - `base` anchors the model at the node's first key, so nearby keys (consecutive ulps) are
 *   differenced exactly instead of cancelling against a large intercept;
 * - `scale` is a power of two that brings the node's key span into [1, 2), so `slope` stays a
 *   moderate finite number even for spans of a few subnormals or of 1e308;
 * - `key - base` may overflow to ±Infinity for keys far outside the node (spans beyond
 *   Number.MAX_VALUE); with a finite positive slope the result is still monotone and is clamped.
 * Rounding is monotone, so every prediction is a non-decreasing function of the key.
 */

const MIN_SCALE = 2 ** -1022
const MAX_SCALE = 2 ** 1023

/** `hi - lo`, saturated at Number.MAX_VALUE instead of overflowing to Infinity. */
export function spanOf(lo: number, hi: number): number {
  const w = hi - lo
  return w === Number.POSITIVE_INFINITY ? Number.MAX_VALUE : w
}

/** A power of two that maps `width` into [1, 2), clamped to the normal range. */
export function scaleFor(width: number): number {
  if (!(width > 0) || width === Number.POSITIVE_INFINITY) return 1
  const s = 2 ** -Math.floor(Math.log2(width))
  return Math.max(MIN_SCALE, Math.min(s, MAX_SCALE))
}

/**
 * The key domain of a model node: keys k are mapped to `k * pre - base`, which lies in
 * [0, span) for the keys the domain was made for. `pre` is 1, or 0.25 when the keys span more
 * than a quarter of the double range (so neither that difference nor the span can overflow).
 */
export interface Domain {
  pre: number
  base: number
  span: number
}

/**
 * The domain of a model node for keys spanning [min, max] (count keys): one average key gap
 * wider than the keys, so the largest key routes strictly inside the last slot. Never empty.
 */
export function domainOf(min: number, max: number, count: number): Domain {
  let pre = 1
  let w = max - min
  if (!(w <= Number.MAX_VALUE / 4)) {
    // Quartered keys differ by at most MAX_VALUE / 2, so the widened span below stays finite.
    pre = 0.25
    w = max * 0.25 - min * 0.25
  }
  let span: number
  if (w > 0) span = w + w / Math.max(1, count)
  else {
    const a = Math.abs(min * pre) * 2 ** -20
    span = Math.max(a, 2 ** -1000)
  }
  return { pre, base: min * pre, span }
}

/** A fitted linear model `rank ~ icpt + ((key - base) * scale) * slope`. */
export interface LinearFit {
  base: number
  scale: number
  slope: number
  icpt: number
}

/** A fresh zeroed {@link LinearFit} to be filled by {@link fitRanks}. */
export function newFit(): LinearFit {
  return { base: 0, scale: 1, slope: 0, icpt: 0 }
}

/** x coordinate of a key for fitting: finite even when `key - base` overflows. */
function xOf(key: number, base: number, scale: number): number {
  const x = (key - base) * scale
  return Math.min(x, 4)
}

/**
 * Least-squares fit of rank (0 .. count-1, counting every `stride`-th key as `stride` ranks)
 * against the keys `keys[start], keys[start+stride], ... < end` (sorted ascending).
 * The slope is always finite and >= 0; a degenerate fit falls back to the two endpoints.
 */
export function fitRanks(
  keys: ArrayLike<number>,
  start: number,
  end: number,
  stride: number,
  out: LinearFit,
): void {
  const base = keys[start]!
  const lastIdx = start + Math.floor((end - 1 - start) / stride) * stride
  const span = spanOf(base, keys[lastIdx]!)
  const scale = scaleFor(span)
  out.base = base
  out.scale = scale
  out.slope = 0
  out.icpt = 0
  const n = Math.floor((end - 1 - start) / stride) + 1
  if (n <= 1 || !(span > 0)) return
  let sx = 0
  for (let i = start; i < end; i += stride) sx += xOf(keys[i]!, base, scale)
  const mx = sx / n
  const mr = ((n - 1) * stride) / 2
  let sxx = 0
  let sxr = 0
  let r = 0
  for (let i = start; i < end; i += stride) {
    const dx = xOf(keys[i]!, base, scale) - mx
    sxx += dx * dx
    sxr += dx * (r - mr)
    r += stride
  }
  let slope = sxr / sxx
  let icpt = mr - slope * mx
  if (!(slope > 0) || !Number.isFinite(slope) || !Number.isFinite(icpt)) {
    const xl = xOf(keys[lastIdx]!, base, scale)
    slope = xl > 0 ? ((n - 1) * stride) / xl : 0
    icpt = 0
  }
  out.slope = slope
  out.icpt = icpt
}
