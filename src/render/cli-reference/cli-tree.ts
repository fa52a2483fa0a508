/** The program as data, for what is generated from it: shell completion and the man page. */
export interface CliOption {
  /** As --help shows it: `-d, --database <url>`. */
  flags: string;
  long?: string;
  short?: string;
  description: string;
  /** Takes a value (`--top <n>`); completion then offers `choices`, or files. */
  takesValue: boolean;
  choices?: readonly string[];
}

export interface CliArgument {
  /** As usage shows it: `<run-id>`. */
  usage: string;
  description: string;
  choices?: readonly string[];
}

export interface CliCommand {
  /** From the program's name down: `['constraint', 'add']`. */
  words: readonly string[];
  description: string;
  arguments: readonly CliArgument[];
  options: readonly CliOption[];
  examples: readonly string[];
  /** [code, meaning], ascending; empty for a group. */
  exitCodes: readonly (readonly [number, string])[];
  subcommands: readonly CliCommand[];
}

export interface CliProgram {
  name: string;
  version: string;
  description: string;
  options: readonly CliOption[];
  commands: readonly CliCommand[];
}

/** Every command of the tree, groups included, parents before children. */
export function allCommands(commands: readonly CliCommand[]): CliCommand[] {
  return commands.flatMap((command) => [command, ...allCommands(command.subcommands)]);
}
