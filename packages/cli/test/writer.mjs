// A writer in its own process, for the tests of read-only commands against a live store: opens
// the store in argv[2] (taking its lock), puts argv[3] keys (durably, left in the log, not
// checkpointed), prints "ready", and closes when its stdin ends or receives "close".
import { AlexStorage } from '@alex/storage'

const db = await AlexStorage.open(process.argv[2], { checkpointRecords: 1_000_000_000 })
const count = Number(process.argv[3] ?? 100)
const value = (key) => new TextEncoder().encode(`writer-${key}`)
await Promise.all(Array.from({ length: count }, (_, key) => db.put(key, value(key))))
process.stdout.write('ready\n')

let closing = false
const close = () => {
  if (closing) return
  closing = true
  db.close().then(
    () => process.exit(0),
    (error) => {
      console.error(error)
      process.exit(1)
    },
  )
}
process.stdin.setEncoding('utf8')
process.stdin.on('data', (text) => {
  if (text.includes('close')) close()
})
process.stdin.on('end', close)
