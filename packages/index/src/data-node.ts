/**
 * ALEX data node: a gapped array of (key, payload) slots with an occupancy bitmap and a linear
 * model predicting a key's slot.
 *
 * Layout of `kv` (a Float64Array of 2 * cap + 4 numbers): slot i is `kv[2i]` (key) and
 * `kv[2i+1]` (payload), so a key and its payload share a cache line; the last four numbers are
 * the model (base, scale, slope, intercept), so one array read brings the whole node. Invariants:
 * - occupied slots hold strictly increasing finite keys (never -0);
 * - a gap holds the key and payload of the next occupied slot to its right, or +Infinity past
 *   the last key, so `kv[2i]` is non-decreasing and searchable without reading the bitmap, and
 *   any slot holding a key also holds its payload (a lookup may stop at the first match);
 * - `maxPos` is the last occupied slot (-1 when empty); `numKeys` counts the set bits.
 */

import { isSet, lowestBit, nextClear, nextSet, prevClear, prevSet } from './bitmap.js'
import { bitLength } from './cost-model.js'
import { fitRanks, type LinearFit, newFit } from './linear-model.js'

const INF = Number.POSITIVE_INFINITY

/** Smallest capacity of a data node, in slots. */
export const MIN_SLOTS = 8
/**
 * An insert at a node's edge (before its first or after its last key) that would shift more
 * than this many slots asks for a resize instead: appends and prepends get room on their side.
 */
export const EDGE_SHIFT_LIMIT = 16
/** Any insert that would shift more slots than this asks for a resize instead. */
export const MAX_SHIFT = 2048

/** A leaf of the ALEX tree. Fields are internal; use the functions of this module. */
export class DataNode {
  /** Discriminant shared with ModelNode. */
  readonly isData = true as const
  /** Interleaved keys and payloads, 2 * cap numbers. */
  kv: Float64Array
  /** Occupancy bitmap, one bit per slot. */
  bitmap: Uint32Array
  /** Number of slots. */
  cap = 0
  /** Number of occupied slots. */
  numKeys = 0
  /** Last occupied slot, or -1. */
  maxPos = -1
  /** Neighbouring data nodes in key order. */
  prev: DataNode | null = null
  next: DataNode | null = null
  /** Keys at which the next insert must first expand or split the node. */
  threshold = 0
  /** Counters since the last (re)build, read by the cost model. */
  numInserts = 0
  numIters = 0
  numShifts = 0
  numAppends = 0
  numPrepends = 0
  /** Expected search iterations and shifts per insert computed at the last (re)build. */
  expectedIters = 0
  expectedShifts = 0

  constructor(cap: number, maxDensity: number) {
    this.kv = EMPTY_KV
    this.bitmap = EMPTY_BM
    allocate(this, cap, maxDensity)
  }
}

const EMPTY_KV = new Float64Array(0)
const EMPTY_BM = new Uint32Array(0)

/**
 * Gives the node fresh empty arrays of `cap` slots, all keys +Infinity (unless `fill` is false:
 * then the caller writes every slot itself).
 */
export function allocate(node: DataNode, cap: number, maxDensity: number, fill = true): void {
  if (cap < MIN_SLOTS) cap = MIN_SLOTS
  const kv = new Float64Array(2 * cap + MODEL_WORDS)
  if (fill) kv.fill(INF, 0, 2 * cap)
  kv[2 * cap] = 0
  kv[2 * cap + 1] = 1
  kv[2 * cap + 2] = 0
  kv[2 * cap + 3] = 0
  node.kv = kv
  node.bitmap = new Uint32Array((cap + 31) >>> 5)
  node.cap = cap
  node.numKeys = 0
  node.maxPos = -1
  let t = Math.floor(cap * maxDensity)
  if (t > cap - 1) t = cap - 1
  node.threshold = Math.max(1, t)
  node.numInserts = 0
  node.numIters = 0
  node.numShifts = 0
  node.numAppends = 0
  node.numPrepends = 0
}

/** Numbers of model stored after the slots: base, scale, slope, intercept. */
export const MODEL_WORDS = 4

/** The model's slot for `key`, clamped to [0, cap-1] (NaN predictions map to 0). */
export function predict(node: DataNode, key: number): number {
  return predictIn(node.kv, node.cap, key)
}

/**
 * {@link predict} from a node's slot array alone (`cap` slots, the model after them), for
 * lookups that reach the array through the lookup tables rather than the node.
 */
export function predictIn(kv: Float64Array, cap: number, key: number): number {
  const h = 2 * cap
  const p = kv[h + 3]! + (key - kv[h]!) * kv[h + 1]! * kv[h + 2]!
  return p >= 1 ? (p < cap ? p | 0 : cap - 1) : 0
}

/** Sets the node's model: slot ~ icpt + ((key - base) * scale) * slope. */
export function setModel(
  node: DataNode,
  base: number,
  scale: number,
  slope: number,
  icpt: number,
): void {
  const h = 2 * node.cap
  node.kv[h] = base
  node.kv[h + 1] = scale
  node.kv[h + 2] = slope
  node.kv[h + 3] = icpt
}

/** The node's model as [base, scale, slope, intercept]. */
export function modelOf(node: DataNode): [number, number, number, number] {
  const h = 2 * node.cap
  const kv = node.kv
  return [kv[h]!, kv[h + 1]!, kv[h + 2]!, kv[h + 3]!]
}

/** Sets the payload of the key in occupied slot `pos`, and of the gaps that repeat it. */
export function setPayloadAt(node: DataNode, pos: number, payload: number): void {
  const kv = node.kv
  const key = kv[2 * pos]!
  kv[2 * pos + 1] = payload
  for (let j = pos - 1; j >= 0 && kv[2 * j] === key; j--) kv[2 * j + 1] = payload
}

/**
 * First slot in [0, cap] whose key is greater than `key`, by exponential search from slot `p`.
 * The slot before it holds the greatest key <= `key` (and is occupied when it exists).
 */
export function upperBound(kv: Float64Array, cap: number, key: number, p: number): number {
  let lo: number
  let hi: number
  if (kv[2 * p]! <= key) {
    lo = p
    hi = p + 1
    let step = 1
    while (hi < cap && kv[2 * hi]! <= key) {
      lo = hi
      step <<= 1
      hi = p + step
    }
    if (hi > cap) hi = cap
  } else {
    hi = p
    lo = p - 1
    let step = 1
    while (lo >= 0 && kv[2 * lo]! > key) {
      hi = lo
      step <<= 1
      lo = p - step
    }
    if (lo < -1) lo = -1
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1
    if (kv[2 * mid]! <= key) lo = mid
    else hi = mid
  }
  return hi
}

/** Slot holding `key`, or -1. */
export function findPos(node: DataNode, key: number): number {
  const i = upperBound(node.kv, node.cap, key, predict(node, key)) - 1
  return i >= 0 && node.kv[2 * i] === key ? i : -1
}

/** Smallest key of the node (+Infinity when empty): the first slot always holds it. */
export function firstKey(node: DataNode): number {
  return node.kv[0]!
}

/** Largest key of the node (-Infinity when empty). */
export function lastKey(node: DataNode): number {
  return node.maxPos < 0 ? Number.NEGATIVE_INFINITY : node.kv[2 * node.maxPos]!
}

/**
 * Inserts `key` (known to be absent) whose upper bound is slot `i` and predicted slot `p`.
 * Uses the gap nearest the prediction, or shifts toward the nearest gap. Returns the number of
 * slots shifted, or -1 when the node must be resized or split first: it is full, or (unless
 * `force`) the shift would be long (see EDGE_SHIFT_LIMIT, MAX_SHIFT). Changes nothing on -1.
 */
export function insertAbsent(
  node: DataNode,
  key: number,
  payload: number,
  i: number,
  p: number,
  force: boolean,
): number {
  const kv = node.kv
  const bm = node.bitmap
  const cap = node.cap
  const maxPos = node.maxPos
  if (i < cap && (bm[i >>> 5]! & (1 << (i & 31))) === 0) {
    // Slots [i, b) are gaps between the previous key (slot i-1) and the next one (slot b).
    let q = i
    if (p > i) {
      if (i > maxPos) {
        // Past the last key: follow the model while it predicts inside the node; beyond that
        // pack densely, so appends fill the node instead of piling up at its end.
        if (p < cap - 1) q = p
      } else {
        const b = nextSet(bm, i + 1, cap)
        q = p < b ? p : b - 1
      }
    }
    for (let g = i; g <= q; g++) {
      kv[2 * g] = key
      kv[2 * g + 1] = payload
    }
    kv[2 * q + 1] = payload
    bm[q >>> 5]! |= 1 << (q & 31)
    if (q > maxPos) node.maxPos = q
    count(node, i, p, 0, maxPos)
    return 0
  }
  // Slot i is occupied (or i == cap): shift toward the nearest gap.
  const gr = nextClear(bm, i, cap)
  const dr = gr < cap ? gr - i : INF
  const gl = prevClear(bm, i - 2, dr === INF ? 0 : i - dr)
  const dl = gl >= 0 ? i - 1 - gl : INF
  if (dr === INF && dl === INF) return -1
  const dist = Math.min(dl, dr)
  if (!force && dist > (i >= cap || i === 0 ? EDGE_SHIFT_LIMIT : MAX_SHIFT)) return -1
  if (dr <= dl) {
    if (dr < 16) {
      for (let j = gr; j > i; j--) {
        kv[2 * j] = kv[2 * j - 2]!
        kv[2 * j + 1] = kv[2 * j - 1]!
      }
    } else {
      kv.copyWithin(2 * i + 2, 2 * i, 2 * gr)
    }
    kv[2 * i] = key
    kv[2 * i + 1] = payload
    bm[gr >>> 5]! |= 1 << (gr & 31)
    if (gr > maxPos) node.maxPos = gr
  } else {
    if (dl < 16) {
      for (let j = gl; j < i - 1; j++) {
        kv[2 * j] = kv[2 * j + 2]!
        kv[2 * j + 1] = kv[2 * j + 3]!
      }
    } else {
      kv.copyWithin(2 * gl, 2 * gl + 2, 2 * i)
    }
    kv[2 * i - 2] = key
    kv[2 * i - 1] = payload
    bm[gl >>> 5]! |= 1 << (gl & 31)
  }
  count(node, i, p, dist, maxPos)
  return dist
}

function count(node: DataNode, i: number, p: number, shifts: number, oldMaxPos: number): void {
  node.numKeys++
  node.numInserts++
  node.numIters += bitLength(i > p ? i - p : p - i)
  node.numShifts += shifts
  if (i > oldMaxPos) node.numAppends++
  else if (i === 0) node.numPrepends++
}

/** Removes the key in occupied slot `pos`, turning it into a gap. */
export function removeAt(node: DataNode, pos: number): void {
  const kv = node.kv
  const key = kv[2 * pos]!
  const last = pos + 1 >= node.cap
  const next = last ? INF : kv[2 * pos + 2]!
  const nextPayload = last ? INF : kv[2 * pos + 3]!
  for (let j = pos; j >= 0 && kv[2 * j] === key; j--) {
    kv[2 * j] = next
    kv[2 * j + 1] = nextPayload
  }
  node.bitmap[pos >>> 5]! &= ~(1 << (pos & 31))
  node.numKeys--
  if (pos === node.maxPos) node.maxPos = prevSet(node.bitmap, pos - 1)
}

/** Copies the node's entries in key order into keys/payloads from `offset`; returns the count. */
export function extract(
  node: DataNode,
  keys: Float64Array,
  payloads: Float64Array,
  offset: number,
): number {
  const kv = node.kv
  const bm = node.bitmap
  let c = offset
  for (let w = 0; w < bm.length; w++) {
    let word = bm[w]!
    while (word !== 0) {
      const pos = (w << 5) + lowestBit(word)
      keys[c] = kv[2 * pos]!
      payloads[c] = kv[2 * pos + 1]!
      c++
      word &= word - 1
    }
  }
  return c - offset
}

const fit: LinearFit = newFit()

/**
 * Expected shifts per insert (Σ L²/4n over runs of L consecutive occupied slots) above which a
 * model-based placement is abandoned for an even one. Keys the linear model cannot fit
 * (exponentially spaced, nested clusters) pile up where the model clamps or crowds them: the
 * runs then span most of the node and every insert shifts half of it, so building a large node
 * by inserts became quadratic. Evenly spread keys keep a gap every 1/(1-density) slots
 * whatever the model, so shifts stay O(1); only the search from the prediction pays for the
 * model's error (logarithmically). Uniform keys at 0.7 density expect about 1-3.
 */
export const MAX_EXPECTED_SHIFTS = 8

/**
 * Rebuilds `node` with capacity `cap` from sorted keys[start, end) and their payloads, spreading
 * them by a freshly trained model over slots [lo, hi) (room outside that span is left for
 * prepends or appends), or evenly by rank over the same span when the model would crowd them
 * (see MAX_EXPECTED_SHIFTS). Resets the cost counters and records the expected costs.
 */
export function layout(
  node: DataNode,
  keys: ArrayLike<number>,
  payloads: ArrayLike<number>,
  start: number,
  end: number,
  cap: number,
  lo: number,
  hi: number,
  maxDensity: number,
): void {
  const n = end - start
  allocate(node, cap, maxDensity, n <= 0)
  cap = node.cap
  if (n <= 0) {
    node.expectedIters = 0
    node.expectedShifts = 0
    return
  }
  fitRanks(keys, start, end, 1, fit)
  const per = (hi - lo) / n
  setModel(node, fit.base, fit.scale, fit.slope * per, lo + fit.icpt * per)
  place(node, keys, payloads, start, n, -1, 0)
  if (node.expectedShifts > MAX_EXPECTED_SHIFTS && n > 16) {
    node.kv.fill(INF, 0, 2 * cap)
    node.bitmap.fill(0)
    place(node, keys, payloads, start, n, lo, per)
  }
}

/**
 * Places keys[start, start+n) into the node's (blank) slots: at the model's prediction when
 * `lo` < 0, else key j at slot `lo + floor(j * per)`; either way pushed right past the previous
 * key and left of the room the remaining keys need. Records the expected costs.
 */
function place(
  node: DataNode,
  keys: ArrayLike<number>,
  payloads: ArrayLike<number>,
  start: number,
  n: number,
  lo: number,
  per: number,
): void {
  const cap = node.cap
  const kv = node.kv
  const bm = node.bitmap
  let prev = -1
  let iters = 0
  let run = 0
  let runSq = 0
  for (let j = 0; j < n; j++) {
    const key = keys[start + j]!
    const pred = predict(node, key)
    const want = lo < 0 ? pred : lo + Math.floor(j * per)
    let q = want <= prev ? prev + 1 : want
    const room = cap - (n - j)
    if (q > room) q = room
    const payload = payloads[start + j]!
    for (let g = prev + 1; g <= q; g++) {
      kv[2 * g] = key
      kv[2 * g + 1] = payload
    }
    bm[q >>> 5]! |= 1 << (q & 31)
    iters += bitLength(q - pred > 0 ? q - pred : pred - q)
    if (q === prev + 1) run++
    else {
      runSq += run * run
      run = 1
    }
    prev = q
  }
  runSq += run * run
  kv.fill(INF, 2 * (prev + 1), 2 * cap)
  node.numKeys = n
  node.maxPos = prev
  node.expectedIters = iters / n
  node.expectedShifts = runSq / (4 * n)
}

/** Capacity and placement span chosen by {@link chooseLayout}. */
export interface Layout {
  cap: number
  lo: number
  hi: number
}

/**
 * Chooses a capacity and span for `n` keys. Nodes whose recent inserts were mostly appends
 * (or prepends) keep their keys at `maxDensity` and leave room on that side for `growth` more
 * keys (default n: doubling, so sequential inserts cost O(1) amortized); nodes whose inserts
 * were mostly appends and prepends together keep them dense in the middle with room for n
 * more split between both sides; others spread keys evenly at `density`.
 */
export function chooseLayout(
  n: number,
  appendFrac: number,
  prependFrac: number,
  density: number,
  maxDensity: number,
  maxSlots: number,
  out: Layout,
  growth = n,
): void {
  if (appendFrac > 0.5 || prependFrac > 0.5) {
    const dense = Math.ceil(n / maxDensity)
    let cap = Math.max(MIN_SLOTS, dense + Math.ceil(Math.max(growth, n / 8) / maxDensity))
    if (cap > maxSlots) cap = Math.max(maxSlots, Math.ceil(n / density))
    out.cap = cap
    if (appendFrac > 0.5) {
      out.lo = 0
      out.hi = Math.min(dense, cap)
    } else {
      out.lo = Math.max(0, cap - dense)
      out.hi = cap
    }
    return
  }
  if (appendFrac + prependFrac > 0.5) {
    // Inserts beyond both ends (keys crowding outward from a middle): room on both sides, n
    // more keys in all. Spread evenly instead, each insert past an end would find no gap
    // within EDGE_SHIFT_LIMIT after a few and expand the node again for O(1) new room: O(n)
    // per insert.
    const dense = Math.ceil(n / maxDensity)
    let cap = Math.max(MIN_SLOTS, dense + Math.ceil(n / maxDensity))
    if (cap > maxSlots) cap = Math.max(maxSlots, Math.ceil(n / density))
    out.cap = cap
    out.lo = Math.max(0, (cap - dense) >> 1)
    out.hi = Math.min(cap, out.lo + dense)
    return
  }
  let cap = Math.max(MIN_SLOTS, Math.ceil(n / density))
  if (cap > maxSlots && n < maxSlots * maxDensity) cap = maxSlots
  out.cap = cap
  out.lo = 0
  out.hi = cap
}

let scratchKeys = new Float64Array(1024)
let scratchPayloads = new Float64Array(1024)

/** Shared scratch arrays of at least `n` entries (contents are overwritten by the next user). */
export function scratch(n: number): [Float64Array, Float64Array] {
  if (scratchKeys.length < n) {
    const size = Math.max(n, scratchKeys.length * 2)
    scratchKeys = new Float64Array(size)
    scratchPayloads = new Float64Array(size)
  }
  return [scratchKeys, scratchPayloads]
}

/** Rebuilds the node in place with the given layout, keeping its entries. */
export function relayout(node: DataNode, l: Layout, maxDensity: number): void {
  const [k, v] = scratch(node.numKeys)
  const n = extract(node, k, v, 0)
  layout(node, k, v, 0, n, l.cap, l.lo, l.hi, maxDensity)
}

/** Whether slot `i` of the node is occupied. */
export function occupied(node: DataNode, i: number): boolean {
  return isSet(node.bitmap, i)
}
