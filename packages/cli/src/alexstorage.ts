import { readFileSync } from 'node:fs'
import type { RangeOptions } from '@alex/storage'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { example, positiveInteger, run } from './command-helpers.js'
import { backup } from './commands/backup.js'
import { check } from './commands/check.js'
import { compact } from './commands/compact.js'
import { dump } from './commands/dump.js'
import { load } from './commands/load.js'
import { stat } from './commands/stat.js'
import { statWatch } from './commands/stat-watch.js'
import { tail } from './commands/tail.js'
import { CliError, debugDescription, describe, Exit, exitCodeOf } from './errors.js'
import { addReplicationCommands } from './replication-commands.js'

const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
).version

/** Parses `--range gte=10,lt=20` (repeatable; later bounds add to earlier ones). */
function parseRange(text: string, previous: RangeOptions = {}): RangeOptions {
  const range: RangeOptions = { ...previous }
  for (const part of text.split(',')) {
    const match = /^\s*(gt|gte|lt|lte)\s*=\s*(.+?)\s*$/.exec(part)
    if (!match) {
      throw new InvalidArgumentError(`expected <gt|gte|lt|lte>=<number>[,...], got "${part}"`)
    }
    const bound = Number(match[2])
    if (match[2] === '' || !Number.isFinite(bound)) {
      throw new InvalidArgumentError(`"${match[2]}" is not a finite number`)
    }
    range[match[1] as 'gt' | 'gte' | 'lt' | 'lte'] = bound
  }
  return range
}

/** Commander's error message as the tool's one line. */
function usageLine(text: string): string {
  const message = text
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim()
  return `alexstorage: ERR_USAGE: ${message} (see --help)\n`
}

let debug = process.argv.includes('--debug')

const program = new Command('alexstorage')
  .description(
    'Inspect, verify, export, import, compact, back up, follow and replicate AlexStorage stores.\nExit codes: 0 done (check: clean), 1 damaged store, bad input or a tail position the log no longer holds, 2 could not run (usage, not a store, locked, I/O error).',
  )
  .version(version, '-V, --version')
  .option('--debug', 'print stack traces of errors')
  .exitOverride()
  .configureOutput({
    // Commander's own errors (unknown option, missing argument) in the tool's one-line form.
    outputError: (text, write) => write(usageLine(text)),
  })
  .addHelpText(
    'after',
    example(
      '$ alexstorage stat ./my-db',
      '$ alexstorage check ./my-db && echo clean',
      '$ alexstorage tail ./my-db --since 1500',
    ),
  )

program
  .command('stat')
  .description(
    'keys, live and dead bytes, segments, log size and LSNs, checkpoints, compactions, cache, index shape and the registered readers (read-only open)',
  )
  .argument('<dir>', 'the store directory')
  .option('--json', 'print JSON instead of a table')
  .option(
    '--watch',
    'refresh the figures until Ctrl-C, following a running writer (in place on a terminal; one block per interval otherwise, one JSON line each with --json)',
  )
  .option(
    '--interval <ms>',
    'milliseconds between refreshes with --watch (default: 1000)',
    positiveInteger(10),
  )
  .addHelpText(
    'after',
    example(
      '$ alexstorage stat ./my-db',
      '$ alexstorage stat ./my-db --json | jq .stats.deadBytes',
      '$ alexstorage stat ./my-db --watch --interval 500',
    ),
  )
  .action(
    run((dir: string, options: { json?: boolean; watch?: boolean; interval?: number }) => {
      if (options.watch)
        return statWatch(dir, { json: options.json, interval: options.interval ?? 1000 })
      if (options.interval !== undefined) {
        throw new CliError('ERR_USAGE', '--interval needs --watch (see --help)', Exit.UNUSABLE)
      }
      return stat(dir, options)
    }),
  )

program
  .command('check')
  .description(
    'verify the store without changing a byte: a read-only open, then every value read from its file and its checksum and identity checked',
  )
  .argument('<dir>', 'the store directory')
  .option('--json', 'print the report as JSON (and no progress bar)')
  .addHelpText(
    'after',
    `${example('$ alexstorage check ./my-db', '$ alexstorage check ./my-db --json > report.json')}\nExit codes: 0 clean, 1 damaged (the error code, file and offset are printed), 2 unusable (not a store, I/O error).\n`,
  )
  .action(run((dir: string, options: { json?: boolean }) => check(dir, options)))

program
  .command('dump')
  .description(
    'every entry in key order as NDJSON lines {"key":<number>,"value":"<base64>"} (read-only open: works while a writer runs)',
  )
  .argument('<dir>', 'the store directory')
  .option('--range <bounds>', 'key bounds, <gt|gte|lt|lte>=<number>[,...] (repeatable)', parseRange)
  .option('--reverse', 'descending key order')
  .option('--limit <n>', 'at most n entries', positiveInteger(0))
  .addOption(new Option('--format <format>', 'output format').choices(['ndjson']).default('ndjson'))
  .option('--out <file>', 'write to this file (created once complete) instead of stdout')
  .addHelpText(
    'after',
    example(
      '$ alexstorage dump ./my-db > my-db.ndjson',
      '$ alexstorage dump ./my-db --range gte=100,lt=200 --reverse --limit 10',
    ),
  )
  .action(
    run(
      (
        dir: string,
        options: {
          range?: RangeOptions
          reverse?: boolean
          limit?: number
          format?: string
          out?: string
        },
      ) => dump(dir, options),
    ),
  )

program
  .command('load')
  .description(
    'write every entry of an NDJSON dump (- for stdin) into the store with bulk ingests (no log), each batch atomic; creates the store if the directory is missing or empty',
  )
  .argument('<dir>', 'the store directory')
  .argument('<file>', 'NDJSON file as written by dump, or - for standard input')
  .option('--batch <n>', 'entries per atomic ingest', positiveInteger(1), 1_000_000)
  .option('--json', 'print the result as JSON (and no progress bar)')
  .addHelpText(
    'after',
    example(
      '$ alexstorage load ./copy-db my-db.ndjson',
      '$ alexstorage dump ./my-db | alexstorage load ./copy-db - --batch 100000',
    ),
  )
  .action(
    run((dir: string, file: string, options: { batch: number; json?: boolean }) =>
      load(dir, file, options),
    ),
  )

program
  .command('compact')
  .description(
    'open the store as its writer, compact it and close it; prints dead bytes before and after',
  )
  .argument('<dir>', 'the store directory')
  .option('--json', 'print before/after figures as JSON')
  .addHelpText('after', example('$ alexstorage compact ./my-db'))
  .action(run((dir: string, options: { json?: boolean }) => compact(dir, options)))

program
  .command('backup')
  .description(
    'copy the store into dest (missing or empty) as a store at one LSN; opens it as its writer: ERR_LOCKED while another process writes to it',
  )
  .argument('<dir>', 'the store directory')
  .argument('<dest>', 'the backup directory: must not exist or be empty, outside the store')
  .option(
    '--json',
    'print the result { dir, dest, lsn, bytes, files } as JSON (and no progress bar)',
  )
  .addHelpText(
    'after',
    `${example('$ alexstorage backup ./my-db /backups/my-db-2026-12-01', '$ alexstorage backup ./my-db ./copy --json && alexstorage check ./copy')}\nbackup needs the writer's lock (db.backup() checkpoints): it runs when no writer has the store open, and fails with ERR_LOCKED (exit 2) while one has. To back up a live store, call db.backup() in the writer's own process.\nThe copy is the store at exactly one LSN (printed); files that never change again are hard-linked when dest is on the same file system, the rest copied. An interrupted backup leaves dest marked incomplete (BACKUP-INCOMPLETE, refused by open): delete it and run again.\n`,
  )
  .action(
    run((dir: string, dest: string, options: { json?: boolean }) => backup(dir, dest, options)),
  )

program
  .command('tail')
  .description(
    'print the changes (puts, deletes) as they happen, one NDJSON line each {"lsn","type","key","value"(base64, puts only)}, until Ctrl-C; follows a writer running in another process (read-only open)',
  )
  .argument('<dir>', 'the store directory')
  .option(
    '--since <lsn>',
    "start after this LSN (the last lsn printed, to resume); default: the store's LSN now, only new changes",
    positiveInteger(0),
  )
  .option('--limit <n>', 'stop after n changes', positiveInteger(0))
  .addOption(new Option('--format <format>', 'output format').choices(['ndjson']).default('ndjson'))
  .option('--quiet', 'no start and stop lines on stderr (where it starts, how to resume)')
  .addHelpText(
    'after',
    `${example('$ alexstorage tail ./my-db', '$ alexstorage tail ./my-db --since 1500 --limit 100 | jq -c .key')}\nExit codes: 0 stopped (Ctrl-C, --limit), 1 the log no longer holds --since (ERR_LSN_TRIMMED, naming the oldest LSN it holds), 2 could not run.\n`,
  )
  .action(
    run(
      (
        dir: string,
        options: { since?: number; limit?: number; format?: string; quiet?: boolean },
      ) => tail(dir, options),
    ),
  )

addReplicationCommands(program)

// Subcommands accept --debug too (the program's option is recognised after them as well).
for (const command of program.commands) {
  command.option('--debug', 'print stack traces of errors')
  command.exitOverride()
  command.configureOutput({ outputError: (text, write) => write(usageLine(text)) })
}

// `alexstorage dump db | head`: a closed pipe ends the dump quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(Exit.OK)
  throw error
})

try {
  await program.parseAsync(process.argv)
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version exit 0; usage errors were printed by commander.
    process.exitCode = error.exitCode === 0 ? Exit.OK : Exit.UNUSABLE
  } else {
    debug ||= Boolean(program.opts().debug)
    process.stderr.write(`${describe(error)}\n`)
    if (debug) process.stderr.write(`${debugDescription(error)}\n`)
    process.exitCode = exitCodeOf(error)
  }
}
