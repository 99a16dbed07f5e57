import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startMetricsApp } from './metrics-app.js'

/**
 * `pnpm start [dir]`: opens a store (a new temp directory unless `dir` is given), serves its
 * metrics on 127.0.0.1, and writes a little every 100 ms until Ctrl-C (or SIGTERM). Scrape the printed URL
 * (`curl`, or a Prometheus job) to see them move.
 */
const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'alexstorage-metrics-'))
const app = await startMetricsApp(dir)
console.log(`store: ${dir}`)
console.log(`metrics: ${app.url}`)

let key = 0
const timer = setInterval(() => {
  const writes = []
  for (let i = 0; i < 20; i++) {
    writes.push(app.db.put(key++ % 1000, new TextEncoder().encode(`value ${key}`)))
  }
  for (let i = 0; i < 50; i++) app.db.get(Math.floor(Math.random() * 1000))
  Promise.all(writes).catch((err: unknown) => console.error(err))
}, 100)

function stop(): void {
  clearInterval(timer)
  app.close().then(
    () => console.log('closed'),
    (err: unknown) => console.error(err),
  )
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
