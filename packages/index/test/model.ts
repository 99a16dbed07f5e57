/** A trivially correct reference for differential tests: a sorted array of [key, payload]. */
export class SortedArrayModel {
  keys: number[] = []
  payloads: number[] = []

  private lower(key: number): number {
    let lo = 0
    let hi = this.keys.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.keys[mid]! < key) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  get size(): number {
    return this.keys.length
  }

  get(key: number): number | undefined {
    const i = this.lower(key)
    return this.keys[i] === key ? this.payloads[i] : undefined
  }

  set(key: number, payload: number): void {
    key = key + 0
    const i = this.lower(key)
    if (this.keys[i] === key) this.payloads[i] = payload
    else {
      this.keys.splice(i, 0, key)
      this.payloads.splice(i, 0, payload)
    }
  }

  delete(key: number): boolean {
    const i = this.lower(key)
    if (this.keys[i] !== key) return false
    this.keys.splice(i, 1)
    this.payloads.splice(i, 1)
    return true
  }

  range(r: {
    gt?: number
    gte?: number
    lt?: number
    lte?: number
    reverse?: boolean
    limit?: number
  }): [number, number][] {
    const out: [number, number][] = []
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i]!
      if (r.gt !== undefined && !(k > r.gt)) continue
      if (r.gte !== undefined && !(k >= r.gte)) continue
      if (r.lt !== undefined && !(k < r.lt)) continue
      if (r.lte !== undefined && !(k <= r.lte)) continue
      out.push([k, this.payloads[i]!])
    }
    if (r.reverse) out.reverse()
    const limit = r.limit === undefined || r.limit < 0 ? out.length : r.limit
    return out.slice(0, limit)
  }
}
