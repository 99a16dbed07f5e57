/**
 * Entry point of the child process that runs one engine (spawned by the cli with tsx).
 * argv[2] is the JSON ChildConfig; results and progress go to the parent over IPC.
 */
import type { ChildConfig, ChildMessage } from './protocol.js'
import { CorrectnessError, runEngine } from './runner.js'

const send = (message: ChildMessage): void => {
  process.send?.(message)
}

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig

runEngine(config, send).then(
  () => {
    process.disconnect?.()
  },
  (err: unknown) => {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err)
    process.send?.({ type: 'error', message, correctness: err instanceof CorrectnessError }, () =>
      process.exit(1),
    )
    if (!process.send) {
      console.error(message)
      process.exit(1)
    }
  },
)
