/**
 * Summary statistics shared by the bench CLI and the per-package bench scripts
 * (packages/{index,wal,storage}/bench, through toolkit.ts). No dependencies.
 */

/** The median of `xs` (mean of the middle two for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/**
 * The item whose `by` value is nearest the {@link median} of them all: the median item itself
 * for an odd count. Throws when `items` is empty.
 */
export function medianItem<T extends object>(items: readonly T[], by: (item: T) => number): T {
  if (items.length === 0) throw new Error('medianItem: no items')
  const m = median(items.map(by))
  let best: T = items[0]!
  for (const item of items) if (Math.abs(by(item) - m) < Math.abs(by(best) - m)) best = item
  return best
}

/** Relative spread of `xs`: (max - min) / median, 0 for a single value. */
export function spread(xs: readonly number[]): number {
  if (xs.length < 2) return 0
  const m = median(xs)
  return m === 0 ? 0 : (Math.max(...xs) - Math.min(...xs)) / m
}
