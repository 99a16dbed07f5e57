/**
 * Holds writes back while a bulk ingest is pending (docs/architecture.md, "Bulk ingest"):
 * from `db.ingest()`'s call until it settles, every put, delete and batch issued is validated
 * (a bad one is refused at once, as always), its values copied, and then kept here; when no
 * ingest is pending any more they are issued in the order they were made. So writes issued
 * during an ingest are ordered after it: their LSNs are above its range, they become visible
 * after it, and a key written meanwhile keeps that write's value. The store's hot paths test one
 * field (`held`).
 */
export class WriteGate {
  /** The held writes, or undefined while no ingest is pending (the gate is open). */
  held: Array<() => void> | undefined
  /** Ingests pending (each `close` is matched by one `open`). */
  private pending = 0
  /** Resolved when the gate opens. */
  private opened: Promise<void> | undefined
  private resolveOpened: (() => void) | undefined

  /** An ingest starts: hold writes from now on. */
  close(): void {
    this.pending++
    if (this.held === undefined) {
      this.held = []
      this.opened = new Promise<void>((resolve) => {
        this.resolveOpened = resolve
      })
    }
  }

  /** An ingest settled: once none is pending, the held writes are issued, in order. */
  open(): void {
    if (--this.pending > 0) return
    const held = this.held ?? []
    const resolve = this.resolveOpened
    this.held = undefined
    this.opened = undefined
    this.resolveOpened = undefined
    for (const issue of held) issue()
    resolve?.()
  }

  /** Keeps `issue` until the gate opens; resolves or rejects as its promise does. */
  defer<T>(issue: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.held!.push(() => {
        issue().then(resolve, reject)
      })
    })
  }

  /** Resolves once the gate is open and what it held has been issued. */
  whenOpen(): Promise<void> {
    return this.opened ?? Promise.resolve()
  }
}
