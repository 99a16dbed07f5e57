/**
 * Command-line flag parsing shared by the bench CLI (args.ts) and the per-package bench
 * scripts (through toolkit.ts). Strict: an unknown flag, or a valued flag without its value,
 * is an error. `--name value` and `--name=value` are both accepted; a bare `--` is skipped.
 */

/** Which flags take a value and which are booleans (names with their leading `--`). */
export interface FlagSpec {
  readonly valued: readonly string[]
  readonly boolean: readonly string[]
}

/** The flags of one command line. */
export interface ParsedFlags {
  /** Valued flags given, by name (`--keys`), the last occurrence winning. */
  readonly values: Map<string, string>
  /** Boolean flags given. */
  readonly flags: Set<string>
}

/** Parses argv (without node and script) against `spec`. */
export function parseFlags(argv: readonly string[], spec: FlagSpec): ParsedFlags {
  const valued = new Set(spec.valued)
  const boolean = new Set(spec.boolean)
  const values = new Map<string, string>()
  const flags = new Set<string>()
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!
    if (arg === '--') continue
    let value: string | undefined
    const eq = arg.indexOf('=')
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1)
      arg = arg.slice(0, eq)
    }
    if (valued.has(arg)) {
      value ??= argv[++i]
      if (value === undefined) throw new Error(`${arg} needs a value`)
      values.set(arg, value)
    } else if (boolean.has(arg)) {
      flags.add(arg)
    } else {
      throw new Error(`unknown argument "${arg}" (see --help)`)
    }
  }
  return { values, flags }
}

/** `text` as a positive integer, or an error naming `flag`. */
export function positiveInt(flag: string, text: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${flag}: expected a positive integer, got "${text}"`)
  return n
}

/** Flags of a per-package bench script: numbers and choices with defaults, and booleans. */
export interface BenchFlagSpec<N extends string, S extends string, B extends string> {
  /** Printed by `--help`. */
  readonly usage: string
  /** Positive-integer flags (names without `--`) and their defaults. */
  readonly numbers?: Readonly<Record<N, number>>
  /** Flags taking one of a few words: the first choice is the default. */
  readonly choices?: Readonly<Record<S, readonly [string, ...string[]]>>
  readonly booleans?: readonly B[]
}

/** Parsed flags of a per-package bench script. */
export interface BenchFlags<N extends string, S extends string, B extends string> {
  readonly numbers: Readonly<Record<N, number>>
  readonly choices: Readonly<Record<S, string>>
  readonly booleans: Readonly<Record<B, boolean>>
}

/**
 * Parses a per-package bench script's argv. `--help` prints the usage and exits 0; a bad
 * command line prints the error and the usage and exits 2.
 */
export function benchFlags<
  N extends string = never,
  S extends string = never,
  B extends string = never,
>(argv: readonly string[], spec: BenchFlagSpec<N, S, B>): BenchFlags<N, S, B> {
  const numbers = (spec.numbers ?? {}) as Record<N, number>
  const choices = (spec.choices ?? {}) as Record<S, readonly [string, ...string[]]>
  const booleans = (spec.booleans ?? []) as readonly B[]
  try {
    const parsed = parseFlags(argv, {
      valued: [...Object.keys(numbers), ...Object.keys(choices)].map((n) => `--${n}`),
      boolean: [...booleans.map((b) => `--${b}`), '--help'],
    })
    if (parsed.flags.has('--help')) {
      console.log(spec.usage)
      process.exit(0)
    }
    const n = {} as Record<N, number>
    for (const name of Object.keys(numbers) as N[]) {
      const text = parsed.values.get(`--${name}`)
      n[name] = text === undefined ? numbers[name] : positiveInt(`--${name}`, text)
    }
    const c = {} as Record<S, string>
    for (const name of Object.keys(choices) as S[]) {
      const known = choices[name]
      const text = parsed.values.get(`--${name}`) ?? known[0]
      if (!known.includes(text))
        throw new Error(`--${name}: expected ${known.join(' or ')}, got "${text}"`)
      c[name] = text
    }
    const b = {} as Record<B, boolean>
    for (const name of booleans) b[name] = parsed.flags.has(`--${name}`)
    return { numbers: n, choices: c, booleans: b }
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${spec.usage}`)
    process.exit(2)
  }
}
