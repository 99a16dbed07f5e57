import type { ReplicationError } from './errors.js'

/** What `rep.stats()` reports. LSNs are the lineage's (equal to the store's unless restored). */
export interface ReplicationStats {
  state: 'running' | 'failed' | 'closed'
  /** The lineage id (32 hex digits), once known. */
  lineage: string | undefined
  /** Every write up to this LSN is in the bucket. */
  shippedLsn: number
  /** The store's applied LSN. */
  lsn: number
  lagLsn: number
  /** Bytes of the store's log written after the shipped LSN (an estimate, see README). */
  lagBytes: number
  /** Age of the oldest unshipped write (at the granularity of one round). */
  lagMs: number
  /** Sequence number of the newest log object shipped. */
  seq: number
  objectsShipped: number
  bytesShipped: number
  snapshotsShipped: number
  /** Failed attempts since the start (each retried). */
  failures: number
  lastError: ReplicationError | undefined
  /** When the newest object was shipped (ms since the epoch). */
  lastShippedAt: number | undefined
}
