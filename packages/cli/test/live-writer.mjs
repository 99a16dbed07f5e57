// A writer in its own process for the tests of `tail` and `stat --watch` against a live store:
// opens the store in argv[2] (taking its lock; checkpoints only at close, so its log keeps every
// change), prints "ready <lsn>", then for each stdin line "write <n>" makes n changes of a fixed
// sequence (puts, deletes of earlier keys, and batches of three), each acknowledged before the
// next, prints each as "change <json>" ({ lsn, type, key, value (base64, puts only) }, the LSN
// read from the store), then "wrote <lsn>". "checkpoint" checkpoints (prints "checkpointed");
// "close" or the end of stdin closes the store and exits 0.
import { createInterface } from 'node:readline'
import { AlexStorage } from '@alex/storage'

const db = await AlexStorage.open(process.argv[2], { checkpointRecords: 1_000_000_000 })
let step = 0
const value = (key) => new TextEncoder().encode(`live-${key}-${step}`)
const line = (lsn, type, key, v) =>
  `change ${JSON.stringify(
    v === undefined
      ? { lsn, type, key }
      : { lsn, type, key, value: Buffer.from(v).toString('base64') },
  )}\n`

async function write(n) {
  let out = ''
  for (let i = 0; i < n; i++, step++) {
    if (step % 5 === 4) {
      const ops = [0, 1, 2].map((j) => ({ type: 'put', key: 1000 + step * 3 + j, value: value(j) }))
      await db.batch(ops)
      ops.forEach((op, j) => {
        out += line(db.lsn - 2 + j, 'put', op.key, op.value)
      })
    } else if (step % 7 === 6) {
      await db.delete(step - 3)
      out += line(db.lsn, 'delete', step - 3)
    } else {
      const v = value(step)
      await db.put(step, v)
      out += line(db.lsn, 'put', step, v)
    }
  }
  process.stdout.write(`${out}wrote ${db.lsn}\n`)
}

let closing = false
async function close() {
  if (closing) return
  closing = true
  await db.close()
  process.exit(0)
}

process.stdout.write(`ready ${db.lsn}\n`)
const commands = createInterface({ input: process.stdin })
let queue = Promise.resolve()
commands.on('line', (text) => {
  const [command, arg] = text.trim().split(/\s+/)
  queue = queue.then(async () => {
    if (command === 'write') await write(Number(arg))
    else if (command === 'checkpoint') {
      await db.checkpoint()
      process.stdout.write('checkpointed\n')
    } else if (command === 'close') await close()
  })
  queue.catch((error) => {
    console.error(error)
    process.exit(1)
  })
})
commands.on('close', () => {
  queue.then(close)
})
