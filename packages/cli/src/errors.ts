import { AlexStorageError } from '@alex/storage'
import { replicationExitCode } from './replication-errors.js'

/** Exit codes (documented in the README). */
export const Exit = {
  /** Done; for `check`: the store is clean. */
  OK: 0,
  /**
   * The data is bad: a damaged store (`ERR_CORRUPTION`), a bad input line for `load`, or a
   * position the log no longer holds for `tail --since` (`ERR_LSN_TRIMMED`).
   */
  DAMAGED: 1,
  /** The command could not run: bad usage, not a store, locked, an I/O error. */
  UNUSABLE: 2,
} as const

/** An error of the tool itself (not of the store), with a stable code like the store's. */
export class CliError extends Error {
  readonly code: string
  readonly exitCode: number
  constructor(code: string, message: string, exitCode: number, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CliError'
    this.code = code
    this.exitCode = exitCode
  }
}

/** The exit code for an error thrown while a command ran. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.exitCode
  const replication = replicationExitCode(error)
  if (replication !== undefined) return replication
  if (error instanceof AlexStorageError && error.code === 'ERR_CORRUPTION') return Exit.DAMAGED
  return Exit.UNUSABLE
}

/** The stable code of an error: the store's `ERR_*`, the OS's `E*`, or `ERR_UNEXPECTED`. */
export function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && code !== '' ? code : 'ERR_UNEXPECTED'
}

/** Where a corruption error points, as " (file F, offset N)", or "" when it says nothing. */
function location(error: unknown): string {
  if (!(error instanceof AlexStorageError) || error.file === undefined) return ''
  // The store's messages usually name the place already.
  if (error.message.includes(error.file)) return ''
  return error.offset === undefined
    ? ` (file ${error.file})`
    : ` (file ${error.file}, offset ${error.offset})`
}

/** One line for stderr: `alexstorage: CODE: message`, without a stack. */
export function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const oneLine = message.replace(/\s*\n\s*/g, ' ')
  return `alexstorage: ${codeOf(error)}: ${oneLine}${location(error)}`
}

/** Everything about an error, for `--debug`: the stack, then each cause's. */
export function debugDescription(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  for (let depth = 0; current !== undefined && depth < 8; depth++) {
    parts.push(
      (depth === 0 ? '' : 'caused by: ') +
        (current instanceof Error ? (current.stack ?? current.message) : String(current)),
    )
    current = current instanceof Error ? current.cause : undefined
  }
  return parts.join('\n')
}

/** The fields of an error for `--json` output. */
export function errorJson(error: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {
    code: codeOf(error),
    message: error instanceof Error ? error.message : String(error),
  }
  if (error instanceof AlexStorageError) {
    if (error.file !== undefined) out.file = error.file
    if (error.offset !== undefined) out.offset = error.offset
  }
  return out
}
