/** Shape, memory and cost figures of an index, as returned by `AlexIndex.stats()`. */
import type { DataNode } from './data-node.js'
import type { AlexNode, ModelNode } from './model-node.js'

/** What `stats()` reports. Bytes are estimates of the index's own memory. */
export interface IndexStats {
  /** Levels from the root to the deepest data node (a lone data node is height 1). */
  height: number
  /** Number of model (inner) nodes. */
  modelNodes: number
  /** Number of data nodes (leaves), including empty ones. */
  dataNodes: number
  /** Number of keys. */
  totalKeys: number
  /** Total data-node slots (occupied and gaps). */
  totalSlots: number
  /** Average depth of a key's data node (root = 0), weighted by keys. */
  averageKeyDepth: number
  /** Estimated bytes of all nodes: typed arrays, pointer arrays and object headers. */
  bytes: number
  /** bytes / totalKeys (0 when empty). */
  bytesPerKey: number
  /** Inserts of new keys since the index was created or loaded. */
  inserts: number
  /** Average distance between predicted and actual slot over those inserts. */
  averageSearchDistance: number
  /** Average exponential-search iterations those inserts needed (log2 of the distance). */
  averageSearchIterations: number
  /** Average slots shifted per insert. */
  averageShiftsPerInsert: number
}

/** Estimated header bytes of a data node object and its three typed arrays. */
const DATA_NODE_HEADER_BYTES = 320
/** Estimated header bytes of a model node object and its pointer array. */
const MODEL_NODE_HEADER_BYTES = 96

/** The parts of an index that stats need. */
export interface StatsSource {
  readonly _root: AlexNode
  readonly _size: number
  readonly _inserts: number
  readonly _searchDistance: number
  readonly _shifts: number
  readonly _searchIterations: number
}

/** Walks the whole tree once (each node counted once despite duplicated pointers). */
export function computeStats(index: StatsSource): IndexStats {
  let modelNodes = 0
  let dataNodes = 0
  let keys = 0
  let slots = 0
  let bytes = 0
  let height = 0
  let depthSum = 0
  const visit = (node: AlexNode, depth: number): void => {
    if (node.isData) {
      const d: DataNode = node
      dataNodes++
      keys += d.numKeys
      slots += d.cap
      depthSum += depth * d.numKeys
      bytes += d.kv.byteLength + d.bitmap.byteLength + DATA_NODE_HEADER_BYTES
      if (depth + 1 > height) height = depth + 1
      return
    }
    const m: ModelNode = node
    modelNodes++
    bytes += m.children.length * 8 + MODEL_NODE_HEADER_BYTES
    let prev: AlexNode | null = null
    for (const child of m.children) {
      if (child !== prev) visit(child, depth + 1)
      prev = child
    }
  }
  visit(index._root, 0)
  const inserts = index._inserts
  return {
    height,
    modelNodes,
    dataNodes,
    totalKeys: keys,
    totalSlots: slots,
    averageKeyDepth: keys === 0 ? 0 : depthSum / keys,
    bytes,
    bytesPerKey: keys === 0 ? 0 : bytes / keys,
    inserts,
    averageSearchDistance: inserts === 0 ? 0 : index._searchDistance / inserts,
    averageSearchIterations: inserts === 0 ? 0 : index._searchIterations / inserts,
    averageShiftsPerInsert: inserts === 0 ? 0 : index._shifts / inserts,
  }
}
