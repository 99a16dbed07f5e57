/**
 * Hard key sets for learned indexes (issue #14), generated from a seed, no downloads: the shapes
 * on which independent benchmarks (SOSD, GRE) see learned indexes collapse, plus an insert
 * sequence crafted against ALEX. Shared by the index bench (packages/index/bench) and the bench
 * CLI's `--distribution` (benchmarks/src/dataset.ts), so both measure the same keys.
 *
 * Every set is `n` distinct finite doubles in **insertion order** (see {@link KEY_SET_ORDER}):
 * random order for the static sets, ascending for the queue, the crafted order for the
 * adversarial sequence. All keys except the adversarial set's are integers in [0, 2^53), so
 * they are exact and a caller can put `max + 1 + j` above them; the adversarial set also keeps
 * its maximum below 2^52 for the same reason.
 */
import { Random } from './random.js'

/** The key sets, easiest first. */
export const KEY_SETS = [
  'uniform',
  'lognormal',
  'clustered',
  'gapped',
  'queue',
  'adversarial',
] as const
export type KeySetName = (typeof KEY_SETS)[number]

/** The order in which each set's keys are returned (and meant to be inserted). */
export const KEY_SET_ORDER: Record<KeySetName, 'random' | 'ascending' | 'crafted'> = {
  uniform: 'random',
  lognormal: 'random',
  clustered: 'random',
  gapped: 'random',
  queue: 'ascending',
  adversarial: 'crafted',
}

/** `n` distinct keys of the named set in its insertion order, the same for the same seed. */
export function makeKeySet(name: KeySetName, n: number, seed = 1): Float64Array {
  const random = new Random(seed ^ 0x51ed270b)
  switch (name) {
    case 'uniform':
      return shuffle(
        distinct(n, () => Math.floor(random.next() * 2 ** 53)),
        random,
      )
    case 'lognormal':
      // Lognormal(0, 2) scaled to integers, as in the ALEX paper and benchmarks/src/dataset.ts.
      return shuffle(
        distinct(n, () => Math.floor(Math.exp(2 * random.normal()) * 1e9)),
        random,
      )
    case 'clustered':
      return shuffle(distinct(n, cellIdDraw(random)), random)
    case 'gapped':
      return shuffle(gappedIds(n, random), random)
    case 'queue':
      return queueTimestamps(n, random)
    case 'adversarial':
      return adversarial(n, random)
  }
}

/** Fisher-Yates, in place. */
export function shuffle(a: Float64Array, random: Random): Float64Array {
  for (let i = a.length - 1; i > 0; i--) {
    const j = random.below(i + 1)
    const t = a[i]!
    a[i] = a[j]!
    a[j] = t
  }
  return a
}

/**
 * `n` distinct draws, sorted: draws `n`, sorts and drops repeats, then draws only as many more
 * as are missing until none are (so no extra has to be dropped, which would bias the set).
 */
export function distinct(n: number, draw: () => number): Float64Array {
  let have = new Float64Array(0)
  while (have.length < n) {
    const need = n - have.length
    const next = new Float64Array(have.length + need)
    next.set(have)
    for (let i = have.length; i < next.length; i++) next[i] = draw()
    next.sort()
    let w = 0
    for (let i = 0; i < next.length; i++)
      if (w === 0 || next[i] !== next[w - 1]) next[w++] = next[i]!
    have = next.subarray(0, w)
  }
  return have.slice()
}

/**
 * Cell-id-like keys (the shape of OpenStreetMap S2 cell ids in SOSD): points gathered in
 * Gaussian "cities" of Zipf-distributed sizes on the 6 faces of a cube, each mapped to the
 * position of its cell on a Hilbert curve over the face, with the face in the top bits, as S2
 * numbers its cells. Ids are `face * 2^50 + hilbert(i, j) * 4 + 2` for a 2^24 x 2^24 grid per
 * face: S2's layout (face bits, 2 bits per level, a trailing marker bit) cut to level 24 so every
 * id is an exact double below 2^53. Dense runs (a city's cells) sit between large empty ranges
 * (oceans, other faces), and a city's blob becomes many runs along the curve. No S2/H3 library:
 * the benches need only this id layout, not geometry, and a dependency is not worth it here.
 */
function cellIdDraw(random: Random): () => number {
  const cities = 2000
  const cum = new Float64Array(cities)
  const cx = new Float64Array(cities)
  const cy = new Float64Array(cities)
  const sigma = new Float64Array(cities)
  const face = new Uint8Array(cities)
  let total = 0
  for (let c = 0; c < cities; c++) {
    total += 1 / (c + 1) // Zipf(1) city sizes
    cum[c] = total
    face[c] = random.below(6)
    cx[c] = random.below(2 ** 24)
    cy[c] = random.below(2 ** 24)
    sigma[c] = 2 ** (10 + 6 * random.next()) // 1k to 64k cells across
  }
  return () => {
    const u = random.next() * total
    let lo = 0
    let hi = cities - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (cum[mid]! < u) lo = mid + 1
      else hi = mid
    }
    const s = sigma[lo]!
    const i = wrap24(Math.round(cx[lo]! + random.normal() * s))
    const j = wrap24(Math.round(cy[lo]! + random.normal() * s))
    return face[lo]! * 2 ** 50 + hilbert24(i, j) * 4 + 2
  }
}

function wrap24(x: number): number {
  return ((x % 2 ** 24) + 2 ** 24) % 2 ** 24
}

/** Position of cell (x, y) on the Hilbert curve over a 2^24 x 2^24 grid (< 2^48, exact). */
export function hilbert24(x: number, y: number): number {
  let d = 0
  for (let s = 1 << 23; s > 0; s >>>= 1) {
    const rx = (x & s) > 0 ? 1 : 0
    const ry = (y & s) > 0 ? 1 : 0
    d += s * s * ((3 * rx) ^ ry)
    if (ry === 0) {
      if (rx === 1) {
        x = s - 1 - (x & (s - 1))
        y = s - 1 - (y & (s - 1))
      }
      const t = x
      x = y
      y = t
    }
    x &= s - 1
    y &= s - 1
  }
  return d
}

/**
 * Social-network-like ids (the shape of SOSD's facebook ids): ids handed out in runs (a shard or
 * an allocation block, heavy-tailed lengths, some ids of a run never used or deleted) separated
 * by jumps, mostly small, one in ten large (1e6 to 1e12), so dense stretches sit between gaps
 * of every scale. Ascending, below 2^52.
 */
function gappedIds(n: number, random: Random): Float64Array {
  const out = new Float64Array(n)
  const bigGapMax = Math.min(1e12, 2 ** 51 / Math.max(1, n / 400))
  let id = 1e6
  let k = 0
  while (k < n) {
    const run = Math.min(1e6, Math.floor(16 / (1 - random.next()) ** (1 / 1.2))) // Pareto(1.2)
    const keep = 0.5 + 0.5 * random.next()
    for (let j = 0; j < run && k < n; j++, id++) if (random.next() < keep) out[k++] = id
    id +=
      random.next() < 0.9
        ? Math.floor(1000 / (1 - random.next()) ** (1 / 1.5))
        : Math.floor(1e6 * (bigGapMax / 1e6) ** random.next())
  }
  return out
}

/**
 * Timestamps in microseconds, ascending, for a time-ordered queue (append at the tail, delete
 * at the head): exponential inter-arrivals whose rate changes every few thousand events (busy and
 * quiet periods, bursts of 1 µs apart), starting at 1.7e15 (2023 in µs since 1970).
 */
function queueTimestamps(n: number, random: Random): Float64Array {
  const out = new Float64Array(n)
  let t = 1.7e15
  let mean = 100
  for (let i = 0; i < n; i++) {
    if (i % 4096 === 0) mean = 2 ** (random.next() * 14) // 1 µs to 16 ms between events
    t += 1 + Math.floor(-Math.log(1 - random.next()) * mean)
    out[i] = t
  }
  return out
}

/**
 * An insert sequence aimed at ALEX's worst cases, in three parts inserted in this order:
 *
 * 1. n/4 exponentially spaced keys, `-2^e` for e evenly over [-1000, 1000], in random order.
 *    An evenly split model node separates only log2(fanout) binades per level, so a tree over
 *    them is as deep as the depth cap allows and any linear model of a node is off by nearly its
 *    whole size.
 * 2. n/4 keys of a fractal (Cantor-like) dust in [2^51, 2^52), in random order: at 14 nested
 *    levels each range keeps only its first and last eighth, so every node at every scale sees
 *    two tight clusters with a gap of 3/4 between them, and no split makes a range look uniform.
 * 3. n/2 keys crowding one empty range, (1, 2), inserted outward from its middle alternately
 *    right and left (1.5 + j·2^-40, 1.5 - j·2^-40): every insert lands at an edge of the same
 *    node, on alternating sides, so the node takes every insert, expands again and again, and
 *    one-sided append layouts never fit.
 */
function adversarial(n: number, random: Random): Float64Array {
  const a = n >> 2
  const b = n >> 2
  const c = n - a - b
  const first = new Float64Array(a + b)
  for (let i = 0; i < a; i++) first[i] = -(2 ** (-1000 + (2000 * i) / Math.max(1, a - 1)))
  const dust = distinct(b, () => {
    let x = 0
    for (let level = 0; level < 14; level++) x = x * 8 + (random.next() < 0.5 ? 0 : 7)
    return 2 ** 51 + x * 2 ** 9 + random.below(2 ** 9)
  })
  first.set(dust, a)
  const out = new Float64Array(n)
  out.set(shuffle(first, random))
  for (let j = 0; j < c; j++) {
    const step = (j >> 1) + 1
    out[a + b + j] = j % 2 === 0 ? 1.5 + step * 2 ** -40 : 1.5 - step * 2 ** -40
  }
  // j = 0 and j = 1 give 1.5 ± 2^-40; the middle itself is never used, so all keys are distinct.
  return out
}
