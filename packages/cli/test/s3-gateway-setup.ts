/**
 * Vitest globalSetup for test/replication.test.ts: the real S3 gateway (Ceph radosgw, started by
 * scripts/s3-gateway.sh). With `CI=true` as root it runs `scripts/s3-gateway.sh start` (the script
 * is idempotent and takes a lock, so this and the replication package's acceptance setup may run
 * it at the same time), then hands the gateway's `S3_*` settings to the tests
 * (`inject('cliS3Gateway')`). Otherwise it only asks `status`: a gateway that is not up makes the
 * suite skip with the reason (and fail under CI).
 *
 * There is no teardown: the gateway is left running whoever started it, because another
 * package's tests (run in parallel by turbo) may be using it, and stopping it under them would
 * fail their run. (It keeps its state in /tmp/alex-s3-gateway; `scripts/s3-gateway.sh stop`
 * stops it.) A run that includes no replication test starts nothing.
 */
import { parseGatewayEnv, runGatewayScript } from '@alex/test-support/s3-gateway'
import type { TestProject } from 'vitest/node'

export type CliGatewayInfo =
  | { state: 'up'; env: Record<string, string> }
  | { state: 'unavailable'; reason: string }

declare module 'vitest' {
  export interface ProvidedContext {
    cliS3Gateway: CliGatewayInfo
  }
}

const script = (command: string, echo = false) => runGatewayScript(command, { echo })

/** Whether this run executes test/replication.test.ts (a targeted run of another file: no). */
async function replicationInRun(project: TestProject): Promise<boolean> {
  try {
    // The command line's file filters (an internal of Vitest; without it, assume the whole suite).
    const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern
    const { testFiles } = await project.globTestFiles(filters ?? [])
    return testFiles.some((file) => file.endsWith('/test/replication.test.ts'))
  } catch {
    return true
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const unavailable = (reason: string) =>
    project.provide('cliS3Gateway', { state: 'unavailable', reason })
  if (!(await replicationInRun(project))) return unavailable('no replication test in this run')
  const root = process.getuid?.() === 0
  if (process.env.CI === 'true' && root) {
    const up = (await script('status')).code === 0
    if (!up) console.log('cli: starting the S3 test gateway (scripts/s3-gateway.sh start)')
    const start = await script('start', !up)
    if (start.code !== 0) {
      return unavailable(
        `scripts/s3-gateway.sh start failed (exit ${start.code}): ${start.stderr.split('\n').slice(-20).join('\n')}`,
      )
    }
  } else if ((await script('status')).code !== 0) {
    return unavailable(
      `the S3 test gateway is not up (\`bash scripts/s3-gateway.sh status\` failed); start it as root with \`bash scripts/s3-gateway.sh start\`${root ? ', or run with CI=true to start it here' : ''}`,
    )
  }
  const env = parseGatewayEnv((await script('env')).stdout)
  project.provide('cliS3Gateway', { state: 'up', env })
}
