/**
 * Vitest globalSetup of the acceptance suites (test/acceptance/*.test.ts): makes sure the real
 * object store, Ceph's radosgw from scripts/s3-gateway.sh, is up, and hands its S3 settings to the
 * tests (`inject('s3Gateway')`).
 *
 * - Only when the run includes an acceptance file (a targeted run of a unit suite starts nothing).
 * - As root (CI runs as root): `bash scripts/s3-gateway.sh start` (it installs the Debian packages
 *   when missing, creates the cluster when missing, and returns at once when it already runs),
 *   then `env`. It never stops the gateway: scripts/run-tests.mjs does, after every package ran.
 * - Not root: the gateway must already be up; if it is not, the acceptance suites are skipped
 *   with the reason printed, unless `CI` is set (then they fail with the reason).
 *
 * The daemons detach (they reopen stdin, stdout and stderr on /dev/null, and the script sends
 * their stderr to log files and closes its lock descriptor for them), so they never hold this
 * process's pipes; the script is awaited on its exit, not on its pipes closing, all the same.
 */
import { GATEWAY_SCRIPT, parseGatewayEnv, runGatewayScript } from '@alex/test-support/s3-gateway'
import type { TestProject } from 'vitest/node'

/** What the tests get from `inject('s3Gateway')`. */
export type GatewayInfo =
  | {
      state: 'up'
      env: Record<string, string>
      script: string
      root: boolean
      startedHere: boolean
    }
  | { state: 'unavailable'; reason: string; script: string; root: boolean }

declare module 'vitest' {
  export interface ProvidedContext {
    s3Gateway: GatewayInfo
  }
}

/** Whether the files this run will execute include an acceptance suite. */
async function acceptanceInRun(project: TestProject): Promise<boolean> {
  try {
    // The CLI's file filters (an internal of Vitest 4; without it, assume the whole suite).
    const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern
    const { testFiles } = await project.globTestFiles(filters ?? [])
    return testFiles.some((f) => f.includes('/test/acceptance/'))
  } catch {
    return true
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  const root = process.getuid?.() === 0
  const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false'
  const unavailable = (reason: string) =>
    project.provide('s3Gateway', { state: 'unavailable', reason, script: GATEWAY_SCRIPT, root })
  if (!(await acceptanceInRun(project))) {
    unavailable('no acceptance suite in this run')
    return
  }
  const wasUp = (await runGatewayScript('status', { timeoutMs: 30_000 })).code === 0
  if (root) {
    const t = Date.now()
    if (!wasUp)
      console.log(
        'acceptance: starting the Ceph radosgw test gateway (scripts/s3-gateway.sh start)',
      )
    const start = await runGatewayScript('start', { echo: !wasUp })
    if (start.code !== 0) {
      unavailable(
        `scripts/s3-gateway.sh start failed (exit ${start.code}):\n${start.stderr.split('\n').slice(-40).join('\n')}`,
      )
      return
    }
    if (!wasUp)
      console.log(`acceptance: the gateway is up (${((Date.now() - t) / 1000).toFixed(1)} s)`)
  } else if (!wasUp) {
    unavailable(
      `the S3 test gateway is not running and this is not root, so it cannot be started: run \`sudo bash scripts/s3-gateway.sh start\` first${ci ? '' : ' (the acceptance suites are skipped; with CI set they fail)'}`,
    )
    if (!ci)
      console.log('acceptance suites skipped: the S3 test gateway is not up and this is not root')
    return
  }
  const env = parseGatewayEnv((await runGatewayScript('env')).stdout)
  project.provide('s3Gateway', {
    state: 'up',
    env,
    script: GATEWAY_SCRIPT,
    root,
    startedHere: !wasUp,
  })
  // No teardown stop: other packages' suites (the CLI's) may use the same gateway at the same
  // time under turbo. The test command (scripts/run-tests.mjs) stops it once everything ran, if
  // it was not up before.
}
