import type { Argument, Option } from 'commander';
import type { ExitCode } from '../errors.js';
import type { CliProgram } from '../render/cli-reference/cli-tree.js';
import type { ExitCodeMeanings } from './exit-codes-help.js';

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
interface CommandMeta {
  name: string;
  description: string;
  arguments?: readonly Argument[];
  options?: readonly Option[];
  /** Settings of its `commands.<name>` config section that are not flags and that the command reads itself. */
  configSettings?: readonly string[];
  /** Shown under "Examples:" in --help, one command line each (a trailing `# comment` is printed above it). */
  examples?: readonly string[];
}

/** A command that runs: it must say which exit codes it can return (--help lists exactly these). */
interface RunnableSpec<Flags> extends CommandMeta {
  exitCodes: ExitCodeMeanings;
  subcommands?: never;
  /** Flags as commander parsed them (camelCase; config defaults applied), then the positional arguments. */
  run(flags: Flags, args: string[], context: RunContext): Promise<ExitCode>;
}

/** A group (constraint, sql) has subcommands and no run of its own. */
interface GroupSpec extends CommandMeta {
  exitCodes?: never;
  subcommands: readonly CommandSpec[];
  run?: never;
}

export type CommandSpec<Flags = never> = RunnableSpec<Flags> | GroupSpec;
