/**
 * The S3 test gateway (scripts/s3-gateway.sh: Ceph's radosgw on 127.0.0.1) as the suites that
 * need it see it, in one copy for every package (the replication package's acceptance suites and
 * the CLI's replication commands): running the script, reading the settings it prints, and the
 * `describe` that skips a suite, or under CI fails it, when the gateway is not there.
 *
 * Free of vitest, as this package has no dependencies: a suite passes its own `describe` and
 * `it`, and a globalSetup its own `provide`.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** scripts/s3-gateway.sh of this repository. */
export const GATEWAY_SCRIPT = fileURLToPath(
  new URL('../../../scripts/s3-gateway.sh', import.meta.url),
)

/** What a suite knows of the gateway (from its globalSetup): up, or why not. */
export type GatewayState = { state: 'up' } | { state: 'unavailable'; reason: string }

/**
 * Runs `bash scripts/s3-gateway.sh <command>`; resolves with its exit code and output once it
 * exits (not once its pipes close: the daemons it starts detach, but whatever they might hold,
 * this side is done with the pipes then). `echo` copies its stderr to ours as it comes; the
 * script is killed after `timeoutMs` (default 10 min: a first start installs Ceph).
 */
export function runGatewayScript(
  command: string,
  options: { echo?: boolean; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [GATEWAY_SCRIPT, command], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      if (options.echo) process.stderr.write(d)
    })
    const timer = setTimeout(() => child.kill('SIGTERM'), options.timeoutMs ?? 600_000)
    let finished = false
    const done = (code: number) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      child.stdout.destroy()
      child.stderr.destroy()
      resolve({ code, stdout, stderr })
    }
    child.on('error', (err) => {
      stderr += String(err)
      done(127)
    })
    child.on('exit', (code, signal) => done(code ?? (signal ? 128 : 1)))
  })
}

/** The `KEY=value` lines `s3-gateway.sh env` prints, as an object. */
export function parseGatewayEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const i = line.indexOf('=')
    if (i > 0) env[line.slice(0, i).trim()] = line.slice(i + 1).trim()
  }
  return env
}

type Body = () => void
/** The parts of vitest a gated suite needs (its own `describe` and `it`). */
export interface SuiteApi {
  describe: ((name: string, body: Body) => void) & { skip: (name: string, body: Body) => void }
  it: (name: string, body: Body) => void
}

/**
 * A `describe` for suites that need the gateway. Up: the suite runs. Not up: under CI the suite
 * is replaced by one failing test that says why (so CI can never skip it silently); elsewhere
 * (a developer without root or without the gateway) it is skipped with the reason printed.
 */
export function gatewayDescribe(
  api: SuiteApi,
  gateway: GatewayState,
  ci: boolean,
): (name: string, body: Body) => void {
  return (name, body) => {
    if (gateway.state === 'up') {
      api.describe(name, body)
    } else if (ci) {
      api.describe(name, () => {
        api.it('needs the S3 test gateway', () => {
          throw new Error(`the S3 test gateway is unavailable: ${gateway.reason}`)
        })
      })
    } else {
      console.log(`skipping "${name}": ${gateway.reason}`)
      api.describe.skip(name, body)
    }
  }
}
