import type { Argument } from '@commander-js/extra-typings';
import type { ExitCode } from '../errors.js';
import type { CliProgram } from '../render/cli-reference/cli-tree.js';
import type { ExitCodeMeanings } from './exit-codes-help.js';
import type { AnyOption, FlagsOf } from './flags-of.js';

/** What a running command gets besides its flags. */
export interface RunContext {
  /**
   * How to name a flag's value in an error: the flag itself (`--top`), or
   * `config "commands.scan.top"` when the config file supplied it.
   */
  source(flag: string): string;
  /** The whole program as data (for what is generated from it: completion, the man page). */
  program(): CliProgram;
}

/**
 * A command as data (kysely-ctl's `{ meta, args, run }`): its name, help,
 * arguments, options and what it runs. Command modules export one and never
 * import the program; `program/program.ts` is the one place that mounts them,
 * wiring commander, config defaults, output-path checks, help and exit codes.
 */
interface CommandMeta<Options extends readonly AnyOption[]> {
  name: string;
  description: string;
  arguments?: readonly Argument[];
  options?: Options;
  /** Settings of its `commands.<name>` config section that are not flags and that the command reads itself. */
  configSettings?: readonly string[];
  /** Shown under "Examples:" in --help, one command line each (a trailing `# comment` is printed above it). */
  examples?: readonly string[];
}

/** A command that runs: it must say which exit codes it can return (--help lists exactly these). */
interface RunnableSpec extends CommandMeta<readonly AnyOption[]> {
  exitCodes: ExitCodeMeanings;
  subcommands?: never;
  /** Flags as commander parsed them (camelCase; config defaults applied), then the positional arguments. */
  run(flags: object, args: string[], context: RunContext): Promise<ExitCode>;
}

/** A command as its module declares it: its run takes exactly the flags its options declare (FlagsOf). */
interface CommandDeclaration<Options extends readonly AnyOption[]> extends CommandMeta<Options> {
  exitCodes: ExitCodeMeanings;
  subcommands?: never;
  run: (flags: FlagsOf<Options>, args: string[], context: RunContext) => Promise<ExitCode>;
}

/** A group (constraint, sql) has subcommands and no run of its own. */
interface GroupSpec extends CommandMeta<readonly AnyOption[]> {
  exitCodes?: never;
  subcommands: readonly CommandSpec[];
  run?: never;
}

/**
 * A command of the program's list. Its options' types are checked against its run where it is declared
 * (defineCommand); the list holds every command, so here the flags are the plain object commander builds
 * (kysely-ctl's defineCommand/defineArgs do the same).
 */
export type CommandSpec = RunnableSpec | GroupSpec;

/**
 * Declares a command (kysely-ctl's defineCommand): its run takes the flags its options declare, so a flag read
 * and not declared, or read as another type, is a compile error.
 */
export function defineCommand<const Options extends readonly AnyOption[]>(declaration: CommandDeclaration<Options>): CommandSpec {
  return declaration;
}
