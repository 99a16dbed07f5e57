import { once } from 'node:events'

/** Bytes gathered before one write to the stream. */
const CHUNK = 64 * 1024

/**
 * Writes lines to a stream (stdout) for `tail`: a line waits at most until the event loop turns,
 * so a live change shows at once, while a backlog (`--since` far back) goes out in writes of
 * `CHUNK` bytes rather than one per line, with the stream's back-pressure respected.
 */
export class LineWriter {
  private buffer = ''
  private scheduled: NodeJS.Immediate | undefined

  constructor(private readonly out: NodeJS.WritableStream & { writableNeedDrain?: boolean }) {}

  /** Adds a line; resolves at once, or once the stream drained when the chunk is full. */
  async write(line: string): Promise<void> {
    this.buffer += line
    if (this.buffer.length >= CHUNK) return this.flush()
    this.scheduled ??= setImmediate(() => {
      this.scheduled = undefined
      this.writeBuffer()
    })
  }

  /** Writes what is buffered; resolves once the stream accepts more. */
  async flush(): Promise<void> {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled)
    this.scheduled = undefined
    this.writeBuffer()
    if (this.out.writableNeedDrain) await once(this.out, 'drain')
  }

  private writeBuffer(): void {
    if (this.buffer === '') return
    this.out.write(this.buffer)
    this.buffer = ''
  }
}
