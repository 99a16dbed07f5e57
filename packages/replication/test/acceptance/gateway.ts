import { randomBytes } from 'node:crypto'
import { gatewayDescribe, runGatewayScript } from '@alex/test-support/s3-gateway'
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3'
import { describe, inject, it } from 'vitest'
import { clientFromEnv } from '../target.js'

/**
 * The acceptance suites' access to the real gateway that global-setup.ts brought up: an S3 client,
 * the bucket, a fresh prefix per test, and the script's gateway-only stop and start.
 */

const info = inject('s3Gateway')
const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false'

/** The bucket every acceptance test writes to, each under a prefix of its own. */
export const BUCKET = 'alex-acceptance'

/** The S3_* settings of the gateway (for child processes). */
export function gatewayEnv(): Record<string, string> {
  if (info.state !== 'up') throw new Error(info.reason)
  return info.env
}

/** Whether this process may stop and start the gateway (root). */
export const canRestartGateway = info.state === 'up' && info.root

let shared: { client: S3Client; ready: Promise<void> } | undefined

/** A client of the gateway and a fresh prefix in the acceptance bucket (created if missing). */
export async function gatewayTarget(
  name: string,
): Promise<{ client: S3Client; bucket: string; prefix: string }> {
  if (shared === undefined) {
    const client = clientFromEnv(gatewayEnv())
    const ready = client.send(new CreateBucketCommand({ Bucket: BUCKET })).then(
      () => undefined,
      (err: { name?: string }) => {
        if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists') throw err
      },
    )
    shared = { client, ready }
  }
  await shared.ready
  const prefix = `${name}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
  return { client: shared.client, bucket: BUCKET, prefix }
}

/** `scripts/s3-gateway.sh stop-gateway` or `start-gateway` (radosgw only; the cluster runs on). */
export async function gatewayCommand(command: 'stop-gateway' | 'start-gateway'): Promise<void> {
  const r = await runGatewayScript(command, { timeoutMs: 240_000 })
  if (r.code !== 0) throw new Error(`s3-gateway.sh ${command} failed (${r.code}): ${r.stderr}`)
}

/**
 * `describe` for a suite that needs the gateway: when it is unavailable, the suite is skipped
 * with the reason printed, or, under CI, replaced by one failing test that says why.
 */
export const describeOnGateway = gatewayDescribe({ describe, it }, info, ci)

/** The value at quantile `q` (0..1) of `xs` (nearest rank); NaN when empty. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!
}
