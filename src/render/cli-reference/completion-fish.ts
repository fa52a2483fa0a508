import { allCommands, type CliCommand, type CliOption, type CliProgram } from './cli-tree.js';

/** A fish single-quoted string (only \\ and \' are escapes there). */
function quoted(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function last(command: CliCommand): string {
  return command.words[command.words.length - 1] ?? '';
}

/** True in fish when the command line holds this command's words (and, for a group, none of its subcommands yet). */
function condition(command: CliCommand | null): string {
  if (command === null) return '__fish_use_subcommand';
  const seen = command.words.map((word) => `__fish_seen_subcommand_from ${word}`);
  const subs = command.subcommands.map(last);
  return [...seen, ...(subs.length > 0 ? [`not __fish_seen_subcommand_from ${subs.join(' ')}`] : [])].join('; and ');
}

function optionLine(name: string, when: string, option: CliOption): string {
  const flags = [option.long ? `-l ${option.long.slice(2)}` : '', option.short ? `-s ${option.short.slice(1)}` : ''].filter(Boolean).join(' ');
  const value = option.takesValue ? (option.choices ? ` -x -a ${quoted(option.choices.join(' '))}` : ' -r -F') : '';
  return `complete -c ${name} -n ${quoted(when)} ${flags}${value} -d ${quoted(option.description.split('\n')[0] ?? '')}`;
}

/** fish completion generated from the command tree: subcommands with their descriptions, each command's flags and choices. */
export function fishCompletion(program: CliProgram): string {
  const name = program.name;
  const lines = [
    `# fish completion for ${name} ${program.version} (${name} completion fish).`,
    `# Load it now:     ${name} completion fish | source`,
    `# or for good:     ${name} completion fish > ~/.config/fish/completions/${name}.fish`,
    `complete -c ${name} -f`,
    ...program.commands.map((command) => `complete -c ${name} -n ${quoted(condition(null))} -a ${last(command)} -d ${quoted(command.description)}`),
    ...program.options.map((option) => optionLine(name, condition(null), option)),
  ];
  for (const command of allCommands(program.commands)) {
    const when = condition(command);
    for (const sub of command.subcommands) lines.push(`complete -c ${name} -n ${quoted(when)} -a ${last(sub)} -d ${quoted(sub.description)}`);
    for (const argument of command.arguments) {
      if (argument.choices) lines.push(`complete -c ${name} -n ${quoted(when)} -a ${quoted(argument.choices.join(' '))} -d ${quoted(argument.description)}`);
    }
    for (const option of command.options) lines.push(optionLine(name, when, option));
  }
  return `${lines.join('\n')}\n`;
}
