/**
 * The dump format: one JSON object per line, `{"key":<number>,"value":"<base64>"}`, in key order,
 * UTF-8, each line ended by "\n". Keys are JSON numbers (a JavaScript number prints and parses
 * back exactly); values are standard base64 (RFC 4648, with padding).
 */

export function encodeLine(key: number, value: Uint8Array): string {
  const base64 = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
  return `{"key":${JSON.stringify(key)},"value":"${base64}"}\n`
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Parses one line; returns the entry or a reason why the line is bad. */
export function parseLine(line: string): { key: number; value: Uint8Array } | { error: string } {
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch {
    return { error: 'not valid JSON' }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { error: 'not a JSON object' }
  }
  const record = parsed as Record<string, unknown>
  const extra = Object.keys(record).filter((k) => k !== 'key' && k !== 'value')
  if (extra.length > 0) return { error: `unknown field "${extra[0]}"` }
  if (typeof record.key !== 'number' || !Number.isFinite(record.key)) {
    return { error: '"key" must be a finite number' }
  }
  if (typeof record.value !== 'string' || !BASE64.test(record.value)) {
    return { error: '"value" must be a base64 string' }
  }
  const buf = Buffer.from(record.value, 'base64')
  return { key: record.key, value: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) }
}

/**
 * One change of the change feed as `tail` prints it:
 * `{"lsn":<n>,"type":"put","key":<number>,"value":"<base64>"}`, or without `value` for a delete.
 */
export function encodeChange(change: {
  lsn: number
  type: 'put' | 'delete'
  key: number
  value?: Uint8Array
}): string {
  const head = `{"lsn":${change.lsn},"type":"${change.type}","key":${JSON.stringify(change.key)}`
  if (change.value === undefined) return `${head}}\n`
  const v = change.value
  return `${head},"value":"${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}"}\n`
}
