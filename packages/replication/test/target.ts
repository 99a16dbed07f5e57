import { randomBytes } from 'node:crypto'
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { FakeS3, FaultyClient } from './fake-s3.js'

/**
 * Where the suites' objects go. By default an in-memory `FakeS3`; with `ALEX_S3_TARGET=gateway`
 * a real S3 endpoint from the environment that `scripts/s3-gateway.sh env` prints (S3_ENDPOINT,
 * S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_REGION, S3_FORCE_PATH_STYLE), in the bucket
 * `ALEX_S3_BUCKET` (default `alex-replication-test`, created if missing). Either way the client
 * is wrapped in a `FaultyClient`, so fault injection works against both, and every test gets a
 * prefix of its own.
 */
export interface Target {
  client: FaultyClient
  bucket: string
  prefix: string
}

/** Whether the suites run against the real gateway (`ALEX_S3_TARGET=gateway`). */
export const onGateway = process.env.ALEX_S3_TARGET === 'gateway'

let fake: FakeS3 | undefined
let real: { client: S3Client; bucket: string; ready: Promise<void> } | undefined

/** The S3 client of the real endpoint described by the S3_* variables. */
export function clientFromEnv(env: NodeJS.ProcessEnv = process.env): S3Client {
  const need = (name: string) => {
    const v = env[name]
    if (v === undefined || v === '')
      throw new Error(`${name} is not set (eval "$(scripts/s3-gateway.sh env)")`)
    return v
  }
  return new S3Client({
    endpoint: need('S3_ENDPOINT'),
    region: env.S3_REGION ?? 'us-east-1',
    credentials: {
      accessKeyId: need('S3_ACCESS_KEY_ID'),
      secretAccessKey: need('S3_SECRET_ACCESS_KEY'),
    },
    forcePathStyle: (env.S3_FORCE_PATH_STYLE ?? 'true') === 'true',
    // Ceph's radosgw predates the SDK's default CRC32 checksums on every request.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1, // the package retries itself; SDK retries would hide injected faults' effects
  })
}

/** A fresh target (its own prefix) on the configured backend. */
export async function target(name: string): Promise<Target> {
  const prefix = `${name}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
  if (onGateway) {
    if (real === undefined) {
      const client = clientFromEnv()
      const bucket = process.env.ALEX_S3_BUCKET ?? 'alex-replication-test'
      const ready = client.send(new CreateBucketCommand({ Bucket: bucket })).then(
        () => undefined,
        (err: { name?: string }) => {
          if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists')
            throw err
        },
      )
      real = { client, bucket, ready }
    }
    await real.ready
    return { client: new FaultyClient(real.client), bucket: real.bucket, prefix }
  }
  fake ??= new FakeS3(['test'])
  return { client: new FaultyClient(fake), bucket: 'test', prefix }
}
