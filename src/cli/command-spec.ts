import type { Argument, Option } from 'commander';
import type { ExitCode } from '../errors.js';

/**
 * A command as data (kysely-ctl's `{ meta, args, run }`): its name, help,
 * arguments, options and what it runs. Command modules export one and never
 * import the program; `program/program.ts` is the one place that mounts them,
 * wiring commander, output-path checks, help text and exit codes.
 */
export interface CommandSpec<Flags = never> {
  name: string;
  description: string;
  arguments?: readonly Argument[];
  options?: readonly Option[];
  /** Shown under "Examples:" in --help, one command line each. */
  examples?: readonly string[];
  /** A group (constraint, sql) has subcommands and no run of its own. */
  subcommands?: readonly CommandSpec[];
  /** Flags as commander parsed them (camelCase), then the positional arguments. */
  run?(flags: Flags, args: string[]): Promise<ExitCode>;
}
