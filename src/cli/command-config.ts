import type { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import type { CommandSpec } from './command-spec.js';
import { didYouMean } from '../util/did-you-mean.js';

/**
 * `commands.<command>` in the config file (`commands.scan`, `commands.constraint.add`): defaults for
 * that command's own flags, named as in camelCase (`--fail-on-duplicates` → `failOnDuplicates`).
 * A flag on the command line wins. This is the one place that reads these sections: every section
 * and setting is checked against the commands' options, so a typo is an error naming its path.
 */

type Section = Record<string, unknown>;

/** The settings a command's section may hold: its options, plus what the command reads itself (spec.configSettings). */
function settingsOf(spec: CommandSpec): string[] {
  return [...(spec.options ?? []).map((option) => option.attributeName()), ...(spec.configSettings ?? [])];
}

/** Checks the whole `commands` object of a config file, whichever command runs. */
export function checkCommandSections(commands: Section | undefined, specs: readonly CommandSpec[], path = 'commands'): void {
  for (const [name, value] of Object.entries(commands ?? {})) {
    const spec = specs.find((candidate) => candidate.name === name);
    const where = `${path}.${name}`;
    if (spec === undefined) {
      throw new UsageError(
        `config "${where}" is not a command${didYouMean(
          name,
          specs.map((s) => s.name),
        )}`,
      );
    }
    if (!isSection(value)) throw new UsageError(`config "${where}" must be an object of settings`);
    if (spec.subcommands !== undefined) {
      checkCommandSections(value, spec.subcommands, where);
      continue;
    }
    const known = settingsOf(spec);
    for (const setting of Object.keys(value)) {
      if (!known.includes(setting)) {
        throw new UsageError(`config "${where}.${setting}" is not a setting of ${name}${didYouMean(setting, known)}; settings: ${known.join(', ')}`);
      }
    }
  }
}

/** The section of one command (`constraint add` → commands.constraint.add), or undefined. */
export function sectionFor(commands: Section | undefined, path: readonly string[]): Section | undefined {
  let section: unknown = commands;
  for (const name of path) section = isSection(section) ? section[name] : undefined;
  return isSection(section) ? section : undefined;
}

/**
 * Sets each option the command line left unset from the section (value source 'config').
 * Returns how to name each such value in an error: `config "commands.scan.top"`.
 */
export function applySection(command: Command, options: readonly Option[], section: Section | undefined, where: string): Map<string, string> {
  const sources = new Map<string, string>();
  for (const option of options) {
    const name = option.attributeName();
    if (section?.[name] === undefined || command.getOptionValueSource(name) === 'cli') continue;
    const label = `config "${where}.${name}"`;
    command.setOptionValueWithSource(name, configValue(option, section[name], label), 'config');
    if (option.long !== undefined) sources.set(option.long, label);
  }
  return sources;
}

/** A config value in the form commander would have produced from the command line. */
function configValue(option: Option, value: unknown, label: string): unknown {
  if (option.isBoolean()) {
    if (typeof value !== 'boolean') throw new UsageError(`${label} must be true or false`);
    return value;
  }
  // Repeatable flags collect into a list (their argParser appends).
  const repeatable = option.parseArg !== undefined;
  const values = Array.isArray(value) && repeatable ? value : [value];
  for (const item of values) {
    if (typeof item !== 'string' && typeof item !== 'number')
      throw new UsageError(`${label} must be ${repeatable ? 'a string or a list of strings' : 'a string or a number'}`);
    if (option.argChoices !== undefined && !option.argChoices.includes(String(item))) {
      throw new UsageError(`${label} takes ${option.argChoices.join('|')}; got ${JSON.stringify(item)}`);
    }
  }
  return repeatable ? values.map(String) : String(value);
}

function isSection(value: unknown): value is Section {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
