import { type Argument, Help, type Option } from 'commander';
import type { CliArgument, CliCommand, CliOption, CliProgram } from '../render/cli-reference/cli-tree.js';
import type { CommandSpec } from './command-spec.js';
import { declaredExitCodes } from './exit-codes-help.js';

const HELPER = new Help();
const HELP: CliOption = { flags: '-h, --help', long: '--help', short: '-h', description: 'display help for command', takesValue: false };
const VERSION: CliOption = { flags: '-V, --version', long: '--version', short: '-V', description: 'output the version number', takesValue: false };

/** The command specs as plain data (what completion and the man page are generated from). */
export function cliProgram(header: { name: string; version: string; description: string }, specs: readonly CommandSpec[]): CliProgram {
  return { ...header, options: [VERSION, HELP], commands: specs.map((spec) => cliCommand(spec, [])) };
}

function cliCommand(spec: CommandSpec, parent: readonly string[]): CliCommand {
  const words = [...parent, spec.name];
  const exitCodes = spec.exitCodes ?? {};
  return {
    words,
    description: spec.description,
    arguments: (spec.arguments ?? []).map(cliArgument),
    options: [...(spec.options ?? []).filter((option) => !option.hidden).map(cliOption), HELP],
    examples: spec.examples ?? [],
    exitCodes: declaredExitCodes(exitCodes).map((code) => [code, exitCodes[code] ?? ''] as const),
    subcommands: (spec.subcommands ?? []).map((sub) => cliCommand(sub, words)),
  };
}

function cliOption(option: Option): CliOption {
  return {
    flags: option.flags,
    long: option.long,
    short: option.short,
    // as --help words it: with its choices and default
    description: HELPER.optionDescription(option),
    takesValue: option.required || option.optional,
    choices: option.argChoices,
  };
}

function cliArgument(argument: Argument): CliArgument {
  const name = argument.name();
  return { usage: argument.required ? `<${name}>` : `[${name}]`, description: argument.description, choices: argument.argChoices };
}
