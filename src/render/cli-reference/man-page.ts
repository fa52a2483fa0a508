import { allCommands, type CliCommand, type CliOption, type CliProgram } from './cli-tree.js';

/** Text as roff reads it: backslashes doubled, a leading . or ' kept literal, dashes as minus signs, other than ASCII as \[uXXXX]. */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/[^\x00-\x7f]/gu, (char) => `\\[u${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}]`)
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n');
}

function usage(command: CliCommand): string {
  const words = command.subcommands.length > 0 ? [...command.words, '<command>'] : [...command.words, '[options]', ...command.arguments.map((a) => a.usage)];
  return words.join(' ');
}

function option(item: CliOption): string {
  return `.TP\n.B ${roff(item.flags)}\n${roff(item.description)}`;
}

function section(program: CliProgram, command: CliCommand): string {
  const parts = [`.SS "${roff(`${program.name} ${usage(command)}`)}"`, roff(command.description)];
  for (const argument of command.arguments) parts.push(`.TP\n.I ${roff(argument.usage)}\n${roff(argument.description)}`);
  if (command.subcommands.length === 0) parts.push(...command.options.map(option));
  if (command.examples.length > 0) parts.push('.PP\nExamples:\n.RS\n.nf', ...command.examples.map((example) => roff(`$ ${example}`)), '.fi\n.RE');
  if (command.exitCodes.length > 0) {
    parts.push('.PP\nExit status:', ...command.exitCodes.map(([code, meaning]) => `.TP\n.B ${code}\n${roff(meaning)}`));
  }
  return parts.join('\n');
}

/** The man page (section 1), generated from the same command tree as --help and completion. */
export function manPage(program: CliProgram): string {
  const name = program.name;
  return [
    `.TH ${name.toUpperCase()} 1 "" "${name} ${program.version}" "User Commands"`,
    '.SH NAME',
    `${name} \\- ${roff(program.description)}`,
    '.SH SYNOPSIS',
    `.B ${name}\n.I command\n[options]`,
    '.br',
    `.B ${name}\n.I command\n\\-\\-help`,
    '.SH DESCRIPTION',
    roff(
      `${name} measures duplicate leads under candidate keys, explains how they arise, removes or merges them in archived, ` +
        'undoable batches, adds the unique constraint without blocking writes, and prints the INSERT ... ON CONFLICT ' +
        'that keeps new ones out. Every writing command is a dry run until --execute.',
    ),
    '.SH OPTIONS',
    ...program.options.map(option),
    '.SH COMMANDS',
    ...allCommands(program.commands).map((command) => section(program, command)),
    '.SH ENVIRONMENT',
    '.TP\n.B DATABASE_URL\nthe database when \\-\\-database is not given; then the PG* variables (PGHOST, PGDATABASE, ...), then the config file',
    '.TP\n.B LEAD_DEDUPE_DEBUG\nset to 1 to add the stack trace to an error line',
    '.SH FILES',
    '.TP\n.I ./lead\\-dedupe.config.json\nread when present and no \\-\\-config is given',
    '.SH SEE ALSO',
    '.BR psql (1)',
    '',
  ].join('\n');
}
