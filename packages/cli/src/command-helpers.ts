import { InvalidArgumentError } from 'commander'

/** An option parser for an integer of at least `min` (commander reports a bad one as ERR_USAGE). */
export function positiveInteger(min: number) {
  return (text: string): number => {
    const n = Number(text)
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`expected an integer >= ${min}, got "${text}"`)
    }
    return n
  }
}

/** The "Example:" block of a command's --help. */
export function example(...lines: string[]): string {
  return `\nExample:\n${lines.map((line) => `  ${line}`).join('\n')}\n`
}

/** Runs a command's action and exits with its code; errors become one line on stderr. */
export function run<A extends unknown[]>(action: (...args: A) => Promise<number>) {
  return async (...args: A): Promise<void> => {
    process.exitCode = await action(...args)
  }
}

/** `n` and the word, plural unless n is 1: count(2, 'object') -> "2 objects". */
export function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}
