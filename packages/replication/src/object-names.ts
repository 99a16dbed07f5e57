/**
 * The object keys under a prefix (docs/replication-format.md, "Layout"):
 * `<prefix>/lineage`, `<prefix>/log/<seq>` and `<prefix>/snap/<seq>-<lsn>`, numbers as 16
 * decimal digits so that the lexicographic order of S3 listings is numeric order.
 */

const DIGITS = 16

/** A number as 16 zero-padded decimal digits. */
export function pad(n: number): string {
  return String(n).padStart(DIGITS, '0')
}

/** The prefix without trailing slashes, then one: '' stays '' (the bucket's root). */
export function normalisePrefix(prefix: string): string {
  const p = prefix.replace(/\/+$/, '')
  return p === '' ? '' : `${p}/`
}

/** Key names of one prefix (already normalised: '' or ending in '/'). */
export class ObjectNames {
  constructor(readonly prefix: string) {}

  get lineage(): string {
    return `${this.prefix}lineage`
  }

  get logDir(): string {
    return `${this.prefix}log/`
  }

  get snapDir(): string {
    return `${this.prefix}snap/`
  }

  log(seq: number): string {
    return `${this.logDir}${pad(seq)}`
  }

  snapshot(seq: number, lsn: number): string {
    return `${this.snapDir}${pad(seq)}-${pad(lsn)}`
  }

  /** The sequence number of a log key, or undefined for another name. */
  parseLog(key: string): number | undefined {
    if (!key.startsWith(this.logDir)) return undefined
    const rest = key.slice(this.logDir.length)
    return /^\d{16}$/.test(rest) ? Number(rest) : undefined
  }

  /** `{ seq, lsn }` of a snapshot key, or undefined for another name. */
  parseSnapshot(key: string): { seq: number; lsn: number } | undefined {
    if (!key.startsWith(this.snapDir)) return undefined
    const m = /^(\d{16})-(\d{16})$/.exec(key.slice(this.snapDir.length))
    return m === null ? undefined : { seq: Number(m[1]), lsn: Number(m[2]) }
  }
}
