/**
 * AlexIndex: an ordered map from finite number keys to number payloads, implemented as ALEX
 * (Ding et al., "ALEX: An Updatable Adaptive Learned Index", SIGMOD 2020).
 */
import { lowestBit } from './bitmap.js'
import { buildSubtree, type LinkContext, prepareInput } from './bulk-load.js'
import { bitLength, isCatastrophic, MIN_SPLIT_KEYS } from './cost-model.js'
import {
  chooseLayout,
  DataNode,
  extract,
  findPos,
  insertAbsent,
  type Layout,
  lastKey,
  layout,
  MIN_SLOTS,
  MODEL_WORDS,
  predict,
  predictIn,
  relayout,
  removeAt,
  scratch,
  setPayloadAt,
  upperBound,
} from './data-node.js'
import { buildDeepTables, type DeepTables, deepLeaf, NO_DEEP_TABLES } from './deep-route.js'
import { allowedHeight, measure, recordHeights, type Shape } from './depth-bound.js'
import { invalidArgument, invalidKey, invalidValue } from './errors.js'
import { AlexIterator, inRange, seekAfter, seekStart, step, Yield } from './iterator.js'
import { domainOf } from './linear-model.js'
import { buildLookupTables, cachedLeaf, isSentinel, STALE_TABLES } from './lookup-cache.js'
import {
  type AlexNode,
  doubleFanout,
  growDomain,
  type ModelNode,
  routeRaw,
  routeSlot,
  runOf,
} from './model-node.js'
import { type Cursor, leafFor, leftmostLeaf, rightmostLeaf } from './navigate.js'
import { type AlexIndexOptions, type Config, resolveOptions } from './options.js'
import { type NormalizedRange, normalizeRange, type RangeOptions } from './range.js'
import { computeStats, type IndexStats } from './stats.js'

/** Restructures tried for one insert before it is forced into its node. */
const MAX_RESTRUCTURES = 4
/** Slots searched branch-free around a lookup's prediction. */
const WINDOW = 8

/**
 * An ordered map from finite number keys to number payloads, stored in an ALEX learned index.
 * Keys: any finite number; -0 and 0 are the same key. Payloads: any number, stored exactly.
 */
export class AlexIndex implements Iterable<[number, number]> {
  /** @internal Root node. */
  _root: AlexNode
  /** @internal Resolved options. */
  readonly _cfg: Config
  /** @internal Number of keys. */
  _size = 0
  /** @internal Incremented by every change of the key set or structure (for iterators). */
  _version = 0
  /** @internal Totals for stats(): inserts of new keys, search distance, shifts. */
  _inserts = 0
  _searchDistance = 0
  _shifts = 0
  _searchIterations = 0
  /**
   * @internal Incremented whenever any data node's array is replaced or any pointer changes
   * (never by inserts or deletes that stay inside a node's array).
   */
  _shape = 0
  /** @internal `_shape` when the lookup tables were built; -1 while they are stale. */
  _cacheShape = -1
  /** @internal Lookup cache (see lookup-cache.ts): routing rows and leaf models. */
  _lf: Float64Array = STALE_TABLES.lf
  /** @internal Lookup cache: root map and mid maps (offsets of rows in `_lf`). */
  _li: Int32Array = STALE_TABLES.li
  /** @internal Lookup cache: slot arrays of the leaf rows (by row offset / 4). */
  _lkv: Float64Array[] = STALE_TABLES.lkv
  /** @internal Deep routing tables (see deep-route.ts), current together with the lookup cache. */
  _deep: DeepTables = NO_DEEP_TABLES
  /** Lookups that found the tables stale since they were last built. */
  private staleGets = 0
  /** Size of the tables last built (a rebuild is due after this many stale lookups). */
  private cacheCost = 0
  private readonly pathNodes: ModelNode[] = []
  private readonly pathSlots: number[] = []
  private readonly run = { start: 0, len: 0 }
  private readonly lay: Layout = { cap: 0, lo: 0, hi: 0 }
  private readonly cursor: Cursor = { leaf: null, pos: 0 }
  private readonly shape: Shape = { keys: 0, height: 0 }
  private readonly below: Shape = { keys: 0, height: 0 }
  /** @internal Subtrees rebuilt by the depth bound, and the keys they held (for tests, stats). */
  _depthRebuilds = 0
  /** `_inserts` when the depth bound last measured the whole tree. */
  private lastFullCheck = 0
  _depthRebuildKeys = 0

  /** An empty index; see {@link AlexIndexOptions} for tuning. */
  constructor(options?: AlexIndexOptions) {
    this._cfg = resolveOptions(options)
    this._root = new DataNode(MIN_SLOTS, this._cfg.maxDensity)
  }

  /**
   * Bulk-loads keys and payloads (arrays or typed arrays of equal length), sorting them if
   * needed; for a repeated key the last payload wins. Sorted Float64Array input is read without
   * copying. Throws ERR_INVALID_KEY / ERR_INVALID_VALUE before building anything.
   */
  static from(
    keys: ArrayLike<number>,
    payloads: ArrayLike<number>,
    options?: AlexIndexOptions,
  ): AlexIndex {
    const index = new AlexIndex(options)
    const input = prepareInput(keys, payloads)
    index.load(input.keys, input.payloads, input.count)
    return index
  }

  private load(keys: Float64Array, payloads: Float64Array, n: number): void {
    if (n === 0) return
    const ctx: LinkContext = { prev: null }
    const domain = domainOf(keys[0]!, keys[n - 1]!, n)
    this._root = buildSubtree(keys, payloads, 0, n, domain, 0, this._cfg, ctx, false)
    recordHeights(this._root)
    this._size = n
    this._version++
    this.invalidate()
  }

  /** Number of keys. */
  get size(): number {
    return this._size
  }

  /** The payload of `key`, or undefined. Throws ERR_INVALID_KEY for a non-finite key. */
  get(key: number): number | undefined {
    // Hot path, kept small so that TurboFan inlines it into the caller's loop: route through the
    // lookup tables (two levels, no node objects), predict the slot and compare the 4 slots from
    // the prediction without branching. Every load address follows from the key and hot tables,
    // and the only data-dependent branch (found or not) is almost always taken, so the cache
    // misses of consecutive lookups overlap. The rest (misses, deeper trees, stale tables,
    // invalid keys) is in getSlow, which must stay out of line.
    if (typeof key === 'number' && key - key === 0) {
      const f = this._lf
      const li = this._li
      let x = Math.floor((key * f[0]! - f[1]!) * f[2]! * f[3]!) + f[4]!
      let e = f[5]!
      // biome-ignore lint/complexity/useMathMinMax: hot path; the ternary clamp compiles tighter and maps NaN to 0
      const m = li[(x > 0 ? (x < e ? x : e) : 0) | 0]!
      x = Math.floor((key * f[m]! - f[m + 1]!) * f[m + 2]! * f[m + 3]!) + f[m + 4]!
      e = f[m + 5]!
      // biome-ignore lint/complexity/useMathMinMax: as above
      const j = li[(f[m + 6]! + (x > 0 ? (x < e ? x : e) : 0)) | 0]!
      const kv = this._lkv[j >> 2]!
      const pp = f[j + 2]! + (key - f[j]!) * f[j + 1]!
      const t = f[j + 3]!
      // biome-ignore lint/complexity/useMathMinMax: as above
      const o = 2 * ((pp > 0 ? (pp < t ? pp : t) : 0) | 0)
      const at = o + 2 * (+(kv[o]! < key) + +(kv[o + 2]! < key) + +(kv[o + 4]! < key))
      if (kv[at] === key) return kv[at + 1]
    }
    return this.getSlow(key)
  }

  /**
   * Everything `get` does not do inline: validation, rebuilding stale lookup tables, keys the
   * tables do not cover and keys not found in the probe window (exponential search). Kept large
   * and out of line on purpose: if TurboFan inlined it into `get`, `get` would no longer be
   * inlined into its callers.
   */
  private getSlow(key: number): number | undefined {
    if (typeof key !== 'number' || key - key !== 0) throw invalidKey(key)
    let kv: Float64Array
    if (this._cacheShape !== this._shape) {
      if (++this.staleGets > this.cacheCost + 64) this.rebuildCache()
    }
    if (this._cacheShape === this._shape) {
      kv = cachedLeaf(this._lf, this._li, this._lkv, key)
      if (isSentinel(kv)) {
        const d = this._deep
        kv = d.rf.length > 0 ? deepLeaf(d.rf, d.ri, d.rkv, key) : leafFor(this._root, key).kv
      }
    } else kv = leafFor(this._root, key).kv
    const cap = (kv.length - MODEL_WORDS) >> 1
    const i = upperBound(kv, cap, key, predictIn(kv, cap, key)) - 1
    return i >= 0 && kv[2 * i] === key ? kv[2 * i + 1] : undefined
  }

  /** Whether `key` is present. Throws ERR_INVALID_KEY for a non-finite key. */
  has(key: number): boolean {
    // Payloads are numbers, so only a missing key gives undefined.
    return this.get(key) !== undefined
  }

  /** Builds the lookup tables for the current shape. */
  private rebuildCache(): void {
    const t = buildLookupTables(this._root)
    this._lf = t.lf
    this._li = t.li
    this._lkv = t.lkv
    this._deep = buildDeepTables(this._root)
    this.cacheCost = t.cost + this._deep.cost
    this._cacheShape = this._shape
    this.staleGets = 0
  }

  /**
   * Records a change of the tree's shape (a node array replaced or a pointer changed): the
   * lookup tables may now point at old arrays, so every lookup is sent to the slow path until
   * they are rebuilt.
   */
  private invalidate(): void {
    this._shape++
    if (this._cacheShape !== -1) {
      this._cacheShape = -1
      this._lf = STALE_TABLES.lf
      this._li = STALE_TABLES.li
      this._lkv = STALE_TABLES.lkv
      this._deep = NO_DEEP_TABLES
    }
  }

  /**
   * Sets the payload of `key`, inserting it if absent. Throws ERR_INVALID_KEY for a non-finite
   * key and ERR_INVALID_VALUE for a non-number payload, changing nothing.
   */
  set(key: number, payload: number): this {
    if (typeof key !== 'number' || key - key !== 0) throw invalidKey(key)
    if (typeof payload !== 'number') throw invalidValue(payload)
    this.upsert(key + 0, payload)
    return this
  }

  /**
   * Sets the payload of `key` like `set`, and returns the payload it replaced (undefined if the
   * key was absent): one descent instead of a `get` followed by a `set`, for callers that must
   * know the old payload (a store freeing the record a key pointed to). Same errors as `set`.
   */
  swap(key: number, payload: number): number | undefined {
    if (typeof key !== 'number' || key - key !== 0) throw invalidKey(key)
    if (typeof payload !== 'number') throw invalidValue(payload)
    return this.upsert(key + 0, payload)
  }

  private upsert(key: number, payload: number): number | undefined {
    for (let attempt = 0; ; attempt++) {
      const leaf = this.leafForInsert(key)
      const kv = leaf.kv
      const p = predict(leaf, key)
      const i = windowUpperBound(kv, leaf.cap, key, p)
      if (i > 0 && kv[2 * i - 2] === key) {
        const old = kv[2 * i - 1]!
        setPayloadAt(leaf, i - 1, payload)
        return old
      }
      // A long shift asks for a restructure once; after that the node takes the insert.
      const force = attempt >= MAX_RESTRUCTURES
      if (leaf.numKeys < leaf.threshold || force) {
        const shifts = insertAbsent(leaf, key, payload, i, p, attempt > 0)
        if (shifts >= 0) {
          this._size++
          this._version++
          this._inserts++
          const dist = i > p ? i - p : p - i
          this._searchDistance += dist
          this._searchIterations += bitLength(dist)
          this._shifts += shifts
          return undefined
        }
        if (force) {
          // Completely full even after restructuring (depth cap): grow past the size limit.
          this.lay.cap = leaf.cap * 2
          this.lay.lo = 0
          this.lay.hi = leaf.cap * 2
          relayout(leaf, this.lay, this._cfg.maxDensity)
          this._version++
          this.invalidate()
          continue
        }
      }
      this.restructure(leaf, key)
    }
  }

  /** Removes `key`; returns whether it was present. Throws ERR_INVALID_KEY like get(). */
  delete(key: number): boolean {
    if (typeof key !== 'number' || key - key !== 0) throw invalidKey(key)
    const node = leafFor(this._root, key)
    const pos = findPos(node, key)
    if (pos < 0) return false
    removeAt(node, pos)
    this._size--
    this._version++
    const cfg = this._cfg
    if (node.numKeys < node.cap * cfg.minDensity && node.cap > 4 * MIN_SLOTS) {
      chooseLayout(node.numKeys, 0, 0, cfg.initialDensity, cfg.maxDensity, Infinity, this.lay)
      relayout(node, this.lay, cfg.maxDensity)
      this.invalidate()
    }
    if (node.numKeys <= cfg.maxBuildKeys / 4) this.merge(node, key)
    return true
  }

  /**
   * Takes over the contents of `other` in one step and leaves `other` empty: an owner builds a
   * new index off to the side (`AlexIndex.from`, with the same options as this one) and every
   * holder of this one sees the new contents at once (a store's bulk ingest). O(1).
   */
  replaceWith(other: AlexIndex): this {
    if (other === this) return this
    this._root = other._root
    this._size = other._size
    this._version++
    this.invalidate()
    other.clear()
    return this
  }

  /** Removes every key. */
  clear(): void {
    this._root = new DataNode(MIN_SLOTS, this._cfg.maxDensity)
    this._size = 0
    this._version++
    this.invalidate()
  }

  /** Smallest key, or undefined when empty. */
  min(): number | undefined {
    let leaf: DataNode | null = leftmostLeaf(this._root)
    while (leaf !== null && leaf.numKeys === 0) leaf = leaf.next
    return leaf === null ? undefined : leaf.kv[0]
  }

  /** Largest key, or undefined when empty. */
  max(): number | undefined {
    let leaf: DataNode | null = rightmostLeaf(this._root)
    while (leaf !== null && leaf.numKeys === 0) leaf = leaf.prev
    return leaf === null ? undefined : lastKey(leaf)
  }

  /** [key, payload] pairs in key order (live, see the README), within an optional range. */
  entries(range?: RangeOptions): IterableIterator<[number, number]> {
    return new AlexIterator<[number, number]>(this, normalizeRange(range), Yield.Entries)
  }

  /** Keys in order within an optional range. */
  keys(range?: RangeOptions): IterableIterator<number> {
    return new AlexIterator<number>(this, normalizeRange(range), Yield.Keys)
  }

  /** Payloads in key order within an optional range. */
  values(range?: RangeOptions): IterableIterator<number> {
    return new AlexIterator<number>(this, normalizeRange(range), Yield.Values)
  }

  /** Same as entries(). */
  [Symbol.iterator](): IterableIterator<[number, number]> {
    return this.entries()
  }

  /**
   * Calls `fn(payload, key, index)` for each entry in key order within an optional range,
   * without allocating. `fn` may modify the index: the walk continues after the last key
   * visited, as the iterators do.
   */
  forEach(
    fn: (payload: number, key: number, index: AlexIndex) => void,
    range?: RangeOptions,
  ): void {
    if (typeof fn !== 'function') throw invalidArgument('forEach needs a callback function')
    const r = normalizeRange(range)
    if (r.lo > r.hi || r.limit === 0) return
    let remaining = r.limit
    let version = this._version
    if (r.reverse) {
      const c: Cursor = { leaf: null, pos: 0 }
      seekStart(this._root, r, c)
      while (c.leaf !== null) {
        const kv = c.leaf.kv
        const key = kv[2 * c.pos]!
        if (!inRange(r, key)) return
        fn(kv[2 * c.pos + 1]!, key, this)
        if (--remaining <= 0) return
        if (this._version !== version) {
          seekAfter(this._root, r, key, c)
          version = this._version
        } else step(r, c)
      }
      return
    }
    // Forward fast path: walk each leaf's bitmap words directly, no allocation per entry.
    const c = this.cursor
    seekStart(this._root, r, c)
    let leaf = c.leaf
    let pos = c.pos
    const hi = r.hi
    const hiInclusive = r.hiInclusive
    while (leaf !== null) {
      const kv = leaf.kv
      const bm = leaf.bitmap
      const words = bm.length
      let w = pos >>> 5
      let word = bm[w]! & (-1 << (pos & 31))
      let changedAt = Number.NaN
      for (;;) {
        if (word === 0) {
          if (++w >= words) break
          word = bm[w]!
          continue
        }
        const p = (w << 5) + lowestBit(word)
        word &= word - 1
        const key = kv[2 * p]!
        if (hiInclusive ? key > hi : key >= hi) return
        fn(kv[2 * p + 1]!, key, this)
        if (--remaining <= 0) return
        if (this._version !== version) {
          changedAt = key
          break
        }
      }
      if (!Number.isNaN(changedAt)) {
        seekAfter(this._root, r, changedAt, c)
        version = this._version
        leaf = c.leaf
        pos = c.pos
        continue
      }
      leaf = leaf.next
      pos = 0
    }
  }

  /**
   * Copies entries of an optional range, in its order, into `keysOut` and `payloadsOut` (either
   * may be null) until the range or the arrays (the shorter given one) run out; returns the
   * count. The non-allocating batch path for scans: no callback and no iterator per entry.
   */
  scan(
    keysOut: Float64Array | null,
    payloadsOut: Float64Array | null,
    range?: RangeOptions,
  ): number {
    return this.scanNormalized(keysOut, payloadsOut, normalizeRange(range))
  }

  /**
   * `scan` with a range already validated by `normalizeRange`: for a caller that validated a
   * range once at its own edge and scans it in chunks (each chunk a narrowed copy), so the range
   * is not validated again per chunk. `r` is trusted as it is.
   */
  scanNormalized(
    keysOut: Float64Array | null,
    payloadsOut: Float64Array | null,
    r: NormalizedRange,
  ): number {
    const room = Math.min(
      r.limit,
      keysOut === null ? Number.POSITIVE_INFINITY : keysOut.length,
      payloadsOut === null ? Number.POSITIVE_INFINITY : payloadsOut.length,
    )
    if (room === Number.POSITIVE_INFINITY) {
      throw invalidArgument('scan needs keysOut or payloadsOut to bound the copy')
    }
    if (r.lo > r.hi || room === 0) return 0
    const c = this.cursor
    seekStart(this._root, r, c)
    let n = 0
    if (r.reverse) {
      while (c.leaf !== null && n < room) {
        const kv = c.leaf.kv
        const key = kv[2 * c.pos]!
        if (!inRange(r, key)) break
        if (keysOut !== null) keysOut[n] = key
        if (payloadsOut !== null) payloadsOut[n] = kv[2 * c.pos + 1]!
        n++
        step(r, c)
      }
      c.leaf = null
      return n
    }
    let leaf = c.leaf
    let pos = c.pos
    c.leaf = null
    const hi = r.hi
    const hiInclusive = r.hiInclusive
    while (leaf !== null) {
      const kv = leaf.kv
      const bm = leaf.bitmap
      const words = bm.length
      let w = pos >>> 5
      let word = bm[w]! & (-1 << (pos & 31))
      for (;;) {
        if (word === 0) {
          if (++w >= words) break
          word = bm[w]!
          continue
        }
        const p = (w << 5) + lowestBit(word)
        word &= word - 1
        const key = kv[2 * p]!
        if (hiInclusive ? key > hi : key >= hi) return n
        if (keysOut !== null) keysOut[n] = key
        if (payloadsOut !== null) payloadsOut[n] = kv[2 * p + 1]!
        if (++n >= room) return n
      }
      leaf = leaf.next
      pos = 0
    }
    return n
  }

  /** Shape, memory and cost counters of the index. */
  stats(): IndexStats {
    return computeStats(this)
  }

  /** Descends to the leaf of `key`, first growing any model node whose domain misses it. */
  private leafForInsert(key: number): DataNode {
    let node = this._root
    const maxFanout = this._cfg.maxFanout
    while (!node.isData) {
      const n = node.children.length
      const r = routeRaw(node, key)
      if ((r < 0 || r >= n) && n < maxFanout) {
        this.growModel(node, r)
        continue
      }
      // biome-ignore lint/complexity/useMathMinMax: hot path; a ternary clamp compiles tighter
      node = node.children[r > 0 ? (r < n - 1 ? r : n - 1) : 0]!
    }
    return node
  }

  /**
   * Grows model node `m` (out-of-domain raw slot `r`) to the right or left, doubling until `r`
   * is covered or the fanout reaches its maximum (after which keys beyond clamp to the edge
   * child for good). New slots get empty data nodes linked into the leaf list.
   */
  private growModel(m: ModelNode, r: number): void {
    this.invalidate()
    const n = m.children.length
    const maxFanout = this._cfg.maxFanout
    const left = r < 0
    const need = left ? n - r : r + 1
    let e = 1
    while (n * 2 ** e < need && n * 2 ** e < maxFanout) e++
    const anchor = left ? leftmostLeaf(m.children[0]!) : rightmostLeaf(m.children[n - 1]!)
    const maxDensity = this._cfg.maxDensity
    // Inserts past the edge will now go to the new nodes: the old edge leaf is left behind.
    this.compactIfSparse(anchor)
    const made = growDomain(m, e, left, () => new DataNode(MIN_SLOTS, maxDensity))
    if (left) {
      for (const node of made) {
        const d = node as DataNode
        d.next = anchor
        d.prev = anchor.prev
        if (anchor.prev !== null) anchor.prev.next = d
        anchor.prev = d
      }
    } else {
      let cur = anchor
      for (const node of made) {
        const d = node as DataNode
        d.prev = cur
        d.next = cur.next
        if (cur.next !== null) cur.next.prev = d
        cur.next = d
        cur = d
      }
    }
    this._version++
  }

  /**
   * Repacks a leaf at the initial density if it is much sparser, as happens to a node laid out
   * with room for appends (or prepends) once the sequence has moved on to a new node.
   */
  private compactIfSparse(leaf: DataNode): void {
    const cfg = this._cfg
    if (leaf.numKeys === 0 || leaf.numKeys >= leaf.cap * cfg.initialDensity * 0.9) return
    chooseLayout(leaf.numKeys, 0, 0, cfg.initialDensity, cfg.maxDensity, Infinity, this.lay)
    relayout(leaf, this.lay, cfg.maxDensity)
  }

  /**
   * How many more keys an append-mostly (or prepend-mostly) leaf can expect before its keys
   * reach the edge of its pointer run, at its current key density: room for more would stay
   * empty once the sequence moves on to the next node.
   */
  private edgeRoom(leaf: DataNode, depth: number, n: number, appending: boolean): number {
    const m = this.pathNodes[depth - 1]!
    runOf(m, this.pathSlots[depth - 1]!, this.run)
    const first = leaf.kv[0]!
    const last = lastKey(leaf)
    if (appending) return keysToSlot(m, this.run.start + this.run.len, last, n, last - first)
    return keysToSlot(m, this.run.start, first, n, last - first)
  }

  /** Records the model nodes and slots from the root to the leaf of `key`; returns the depth. */
  private findPath(key: number): number {
    let node = this._root
    let depth = 0
    while (!node.isData) {
      const s = routeSlot(node, key)
      this.pathNodes[depth] = node
      this.pathSlots[depth] = s
      depth++
      node = node.children[s]!
    }
    return depth
  }

  /**
   * Makes room in a full leaf before inserting `key`: expand and retrain it, or when it is at
   * its size limit or its model no longer fits (the cost model's catastrophic case), split it
   * sideways into its parent's pointers or downward into a new model node.
   */
  private restructure(leaf: DataNode, key: number): void {
    const cfg = this._cfg
    this._version++
    this.invalidate()
    const depth = this.findPath(key)
    const n = leaf.numKeys
    const tries = leaf.numInserts + 1
    const appendFrac = (leaf.numAppends + (key > lastKey(leaf) ? 1 : 0)) / tries
    const prependFrac = (leaf.numPrepends + (key < leaf.kv[0]! ? 1 : 0)) / tries
    const lay = this.lay
    const growth = depth === 0 ? n : this.edgeRoom(leaf, depth, n, appendFrac > prependFrac)
    chooseLayout(
      n,
      appendFrac,
      prependFrac,
      cfg.expandDensity,
      cfg.maxDensity,
      cfg.maxDataNodeSlots,
      lay,
      growth,
    )
    const canExpand =
      lay.cap <= cfg.maxDataNodeSlots && n + 2 <= Math.floor(lay.cap * cfg.maxDensity)
    if (canExpand && !(n >= MIN_SPLIT_KEYS && catastrophic(leaf))) {
      relayout(leaf, lay, cfg.maxDensity)
      return
    }
    const [ks, vs] = scratch(n)
    extract(leaf, ks, vs, 0)
    if (depth >= cfg.maxDepth - 1 || !splitSeparates(ks, n, key, cfg.maxFanout)) {
      // Grow past the size limit instead of splitting (see splitSeparates); the layout falls
      // back to even spacing when the model would crowd the keys (data-node.ts, layout).
      chooseLayout(n, appendFrac, prependFrac, cfg.expandDensity, cfg.maxDensity, Infinity, lay)
      relayout(leaf, lay, cfg.maxDensity)
      return
    }
    if (depth === 0) this.splitDownward(leaf, key, ks, vs, n, null, 0, 0)
    else this.splitSideways(leaf, key, ks, vs, n, depth, appendFrac, prependFrac)
    this.boundDepth(key)
  }

  /**
   * After a split (a downward split is the only change that deepens a tree): when the path to
   * `key` has more levels than {@link allowedHeight} allows the root, walks up that path
   * measuring each ancestor's subtree and rebuilds, with the bulk loader, the lowest one that
   * is deeper than its own allowed height and has taken at least half as many inserts
   * as it was built with since it was built (so each rebuild is paid for by the inserts before
   * it; see docs/index-design.md, "Depth bound"). Cheap when the path is within the bound:
   * one descent.
   */
  private boundDepth(key: number): void {
    const cfg = this._cfg
    const depth = this.findPath(key)
    const root = this._root
    if (root.isData) return
    const shape = this.shape
    if (depth + 1 <= allowedHeight(root, this._size, cfg)) {
      // Deep subtrees off the paths being split (left behind at a queue's head, say) are
      // found by measuring the whole tree, at most once per size/2 inserts.
      if (this._inserts - this.lastFullCheck < this._size / 2) return
      this.lastFullCheck = this._inserts
      measure(root, null, null, shape)
      if (shape.height > allowedHeight(root, shape.keys, cfg) && shape.keys > 0) {
        if (this._inserts - root.stamp >= root.builtKeys / 2) this.rebuildSubtree(0, shape.keys)
      }
      return
    }
    const below = this.below
    let known: AlexNode | null = null
    for (let j = depth - 1; j >= 0; j--) {
      const m = this.pathNodes[j]!
      measure(m, known, known === null ? null : below, shape)
      if (
        shape.height > allowedHeight(m, shape.keys, cfg) &&
        this._inserts - m.stamp >= m.builtKeys / 2 &&
        shape.keys > 0
      ) {
        this.rebuildSubtree(j, shape.keys)
        return
      }
      below.keys = shape.keys
      below.height = shape.height
      known = m
    }
  }

  /**
   * Replaces the subtree of path node `j` (holding `n` keys) by a bulk load of its keys, linked
   * into the leaf list in its place. O(n) time and 16n bytes of temporary arrays.
   */
  private rebuildSubtree(j: number, n: number): void {
    const cfg = this._cfg
    const m = this.pathNodes[j]!
    const first = leftmostLeaf(m)
    const last = rightmostLeaf(m)
    const ks = new Float64Array(n)
    const vs = new Float64Array(n)
    let c = 0
    for (let d: DataNode = first; ; d = d.next!) {
      c += extract(d, ks, vs, c)
      if (d === last) break
    }
    const after = last.next
    const ctx: LinkContext = { prev: first.prev, stamp: this._inserts }
    const sub = buildSubtree(ks, vs, 0, c, domainOf(ks[0]!, ks[c - 1]!, c), j, cfg, ctx, false)
    recordHeights(sub)
    const end = ctx.prev!
    end.next = after
    if (after !== null) after.prev = end
    if (j === 0) this._root = sub
    else {
      const parent = this.pathNodes[j - 1]!
      runOf(parent, this.pathSlots[j - 1]!, this.run)
      for (let i = this.run.start; i < this.run.start + this.run.len; i++) parent.children[i] = sub
    }
    this._depthRebuilds++
    this._depthRebuildKeys += c
    this._version++
    this.invalidate()
  }

  /**
   * Splits `leaf` (entries in ks/vs) across its run of pointers in its parent, halving the run
   * (doubling the parent first if the run is one pointer). A half that would get no keys gets a
   * new empty node without copying anything (the common case for appends). Falls back to a
   * downward split when the parent cannot separate the keys.
   */
  private splitSideways(
    leaf: DataNode,
    key: number,
    ks: Float64Array,
    vs: Float64Array,
    n: number,
    depth: number,
    appendFrac: number,
    prependFrac: number,
  ): void {
    const cfg = this._cfg
    const m = this.pathNodes[depth - 1]!
    runOf(m, this.pathSlots[depth - 1]!, this.run)
    let s = this.run.start
    let len = this.run.len
    for (;;) {
      if (len === 1) {
        if (m.children.length < cfg.maxFanout && doublingSeparates(m, ks[0]!, ks[n - 1]!, key)) {
          doubleFanout(m)
          s *= 2
          len = 2
        } else {
          this.splitDownward(leaf, key, ks, vs, n, m, s, len)
          return
        }
      }
      const mid = s + len / 2
      let lo = 0
      let hi = n
      while (lo < hi) {
        const h = (lo + hi) >>> 1
        if (routeSlot(m, ks[h]!) < mid) lo = h + 1
        else hi = h
      }
      const idx = lo
      if (idx === 0 || idx === n) {
        const keysRight = idx === 0
        const keyRight = routeSlot(m, key) >= mid
        const empty = new DataNode(MIN_SLOTS, cfg.maxDensity)
        if (keysRight) {
          for (let i = s; i < mid; i++) m.children[i] = empty
          linkBefore(leaf, empty)
          s = mid
        } else {
          for (let i = mid; i < s + len; i++) m.children[i] = empty
          linkAfter(leaf, empty)
        }
        len /= 2
        if (keyRight !== keysRight) {
          this.compactIfSparse(leaf)
          return
        }
        continue
      }
      // Only the half that takes the pending insert keeps room for appends or prepends; the
      // other half of a sequential workload will see no more inserts and is packed evenly.
      const keyRight = routeSlot(m, key) >= mid
      const right = new DataNode(MIN_SLOTS, cfg.maxDensity)
      const lay = this.lay
      const rightAppends = keyRight ? appendFrac : 0
      const rn = n - idx
      const rGrowth = keysToSlot(m, s + len, ks[n - 1]!, rn, ks[n - 1]! - ks[idx]!)
      chooseLayout(rn, rightAppends, 0, cfg.initialDensity, cfg.maxDensity, Infinity, lay, rGrowth)
      layout(right, ks, vs, idx, n, lay.cap, lay.lo, lay.hi, cfg.maxDensity)
      const leftPrepends = keyRight ? 0 : prependFrac
      const lGrowth = keysToSlot(m, s, ks[0]!, idx, ks[idx - 1]! - ks[0]!)
      chooseLayout(idx, 0, leftPrepends, cfg.initialDensity, cfg.maxDensity, Infinity, lay, lGrowth)
      layout(leaf, ks, vs, 0, idx, lay.cap, lay.lo, lay.hi, cfg.maxDensity)
      for (let i = mid; i < s + len; i++) m.children[i] = right
      linkAfter(leaf, right)
      return
    }
  }

  /**
   * Replaces `leaf` (entries in ks/vs) by a model node over its keys and `key`, built by the
   * bulk loader so the fanout is chosen by the cost model; `parent` null means the root.
   */
  private splitDownward(
    leaf: DataNode,
    key: number,
    ks: Float64Array,
    vs: Float64Array,
    n: number,
    parent: ModelNode | null,
    s: number,
    len: number,
  ): void {
    const lo = Math.min(ks[0]!, key)
    const hi = Math.max(ks[n - 1]!, key)
    const domain = domainOf(lo, hi, n + 1)
    const depth = parent === null ? 0 : this.findPath(key) - 1
    const ctx: LinkContext = { prev: leaf.prev, stamp: this._inserts }
    const sub = buildSubtree(ks, vs, 0, n, domain, depth, this._cfg, ctx, true)
    recordHeights(sub)
    const last = ctx.prev!
    last.next = leaf.next
    if (leaf.next !== null) leaf.next.prev = last
    if (parent === null) this._root = sub
    else for (let i = s; i < s + len; i++) parent.children[i] = sub
  }

  /**
   * After a delete left `leaf` small: merges it with its buddy run (the other half of the
   * aligned run twice its size) when that is one data node and both fit comfortably in one
   * node, and replaces a model node left with a single child by that child. Repeats upward.
   */
  private merge(leaf: DataNode, key: number): void {
    const cfg = this._cfg
    this.invalidate()
    for (;;) {
      const depth = this.findPath(key)
      if (depth === 0) return
      const m = this.pathNodes[depth - 1]!
      runOf(m, this.pathSlots[depth - 1]!, this.run)
      const s = this.run.start
      const len = this.run.len
      const fanout = m.children.length
      if (len === fanout) {
        if (depth === 1) this._root = leaf
        else {
          const gm = this.pathNodes[depth - 2]!
          runOf(gm, this.pathSlots[depth - 2]!, this.run)
          for (let i = this.run.start; i < this.run.start + this.run.len; i++) gm.children[i] = leaf
        }
        this._version++
        continue
      }
      const bs = s ^ len
      const buddy = m.children[bs]!
      if (!buddy.isData || m.children[bs + len - 1] !== buddy) return
      if (leaf.numKeys + buddy.numKeys > cfg.maxBuildKeys / 2) return
      const left = s < bs ? leaf : buddy
      const right = s < bs ? buddy : leaf
      const total = left.numKeys + right.numKeys
      const [ks, vs] = scratch(total)
      extract(left, ks, vs, 0)
      extract(right, ks, vs, left.numKeys)
      chooseLayout(total, 0, 0, cfg.initialDensity, cfg.maxDensity, Infinity, this.lay)
      layout(left, ks, vs, 0, total, this.lay.cap, this.lay.lo, this.lay.hi, cfg.maxDensity)
      left.next = right.next
      if (right.next !== null) right.next.prev = left
      const start = Math.min(s, bs)
      for (let i = start; i < start + 2 * len; i++) m.children[i] = left
      this._version++
      leaf = left
    }
  }
}

/**
 * upperBound (first slot whose key is greater than `key`), trying first a branch-free count over
 * the 8 slots around the prediction: when the answer lies inside them no search branch is taken.
 */
function windowUpperBound(kv: Float64Array, cap: number, key: number, p: number): number {
  if (cap >= WINDOW) {
    let lo = p - (WINDOW / 2 - 1)
    if (lo < 0) lo = 0
    else if (lo > cap - WINDOW) lo = cap - WINDOW
    const o = 2 * lo
    if (kv[o]! <= key) {
      const c =
        +(kv[o + 2]! <= key) +
        +(kv[o + 4]! <= key) +
        +(kv[o + 6]! <= key) +
        +(kv[o + 8]! <= key) +
        +(kv[o + 10]! <= key) +
        +(kv[o + 12]! <= key) +
        +(kv[o + 14]! <= key)
      // Slots lo .. lo+c hold keys <= key and, if c < 7, slot lo+c+1 a greater one.
      if (c < WINDOW - 1) return lo + c + 1
    }
  }
  return upperBound(kv, cap, key, p)
}

/** Share of a node's keys that one 1/maxFanout-wide slice of its extent may hold. */
const NO_PROGRESS_SHARE = 0.9
/** Nested levels of slices looked at by {@link splitSeparates}. */
const NO_PROGRESS_LEVELS = 4

/**
 * Whether splitting a node with sorted keys ks[0, n) (and the pending `key`) into model nodes
 * can make progress: false when, at each of NO_PROGRESS_LEVELS nested levels, more than 90% of
 * the keys fall in one 1/maxFanout slice of the previous level's densest keys (the finest split
 * a model node can make). Exponentially spaced keys are like that at every scale: each split
 * peeled off a few keys and left a child as full as its parent, to be split again at the next
 * insert, so building such a set by inserts cost O(n) per insert and deepened the tree to
 * `maxDepth`. Such a node grows past `maxDataNodeSlots` instead (expansions double it: O(1)
 * amortized per insert). A dense cluster inside a wide extent is still split: a few levels
 * down its keys spread over many slices. O(n).
 */
function splitSeparates(ks: Float64Array, n: number, key: number, maxFanout: number): boolean {
  if (n < 1024) return true
  let a = 0
  let b = n
  let lo = Math.min(ks[0]!, key)
  let hi = Math.max(ks[n - 1]!, key)
  for (let level = 0; level < NO_PROGRESS_LEVELS; level++) {
    // Halved, so that the width of keys spanning most of the double range cannot overflow.
    const slice = (hi * 0.5 - lo * 0.5) / maxFanout
    const w = Math.ceil((b - a) * NO_PROGRESS_SHARE)
    let found = -1
    for (let i = a; i + w - 1 < b; i++) {
      if (ks[i + w - 1]! * 0.5 - ks[i]! * 0.5 < slice) {
        found = i
        break
      }
    }
    if (found < 0 || w < 2) return true
    a = found
    b = found + w
    lo = ks[a]!
    hi = ks[b - 1]!
  }
  return false
}

function catastrophic(leaf: DataNode): boolean {
  return isCatastrophic(
    leaf.expectedIters,
    leaf.expectedShifts,
    leaf.numInserts,
    leaf.numIters,
    leaf.numShifts,
  )
}

/** Whether doubling `m` would route the smallest and largest of these keys apart. */
function doublingSeparates(m: ModelNode, min: number, max: number, key: number): boolean {
  const a = Math.min(key, min)
  const b = Math.max(key, max)
  const last = 2 * m.children.length - 1
  const slope = m.slope * 2
  const off = m.off * 2
  const ra = Math.floor((a * m.pre - m.base) * m.scale * slope) + off
  const rb = Math.floor((b * m.pre - m.base) * m.scale * slope) + off
  const sa = Math.max(0, Math.min(ra, last))
  const sb = Math.max(0, Math.min(rb, last))
  return sa !== sb
}

/**
 * Estimated keys between `edgeKey` and the boundary key of slot `slot` of `m`, for `n` keys
 * spread over `width`. Capped at n (doubling), and n when unknown or degenerate.
 */
function keysToSlot(m: ModelNode, slot: number, edgeKey: number, n: number, width: number): number {
  const x = (slot - m.off) / m.slope / m.scale
  const boundary = (x + m.base) / m.pre
  const gap = Math.abs(boundary - edgeKey)
  if (!(width > 0) || !Number.isFinite(gap)) return n
  return Math.min(n, Math.ceil((gap / width) * n))
}

function linkAfter(node: DataNode, added: DataNode): void {
  added.prev = node
  added.next = node.next
  if (node.next !== null) node.next.prev = added
  node.next = added
}

function linkBefore(node: DataNode, added: DataNode): void {
  added.next = node
  added.prev = node.prev
  if (node.prev !== null) node.prev.next = added
  node.prev = added
}
