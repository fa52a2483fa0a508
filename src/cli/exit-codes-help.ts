import { Help } from 'commander';
import { ExitCode } from '../errors.js';

/** What a command's exit codes mean for it: each command declares only the codes it can return. */
export type ExitCodeMeanings = Partial<Record<ExitCode, string>>;

/** The codes every command can return, in the words every help page uses. */
export const COMMON_EXIT_CODES = {
  [ExitCode.ok]: 'success (also: nothing to do)',
  [ExitCode.runtime]: 'runtime or database error (the message names it)',
  [ExitCode.usage]: 'usage or configuration error; nothing was changed',
} as const satisfies ExitCodeMeanings;

/** Help is laid out for 80 columns at most (narrower on a narrower terminal), like psql's. */
export const HELP_WIDTH = 80;

const wrapper = new Help();
const CODE_COLUMN = 7;

/** The codes a declaration lists, in ascending order. */
export function declaredExitCodes(meanings: ExitCodeMeanings): ExitCode[] {
  return Object.keys(meanings)
    .map(Number)
    .sort((a, b) => a - b) as ExitCode[];
}

/** "Exit codes:" as --help ends with it: one code a line, its meaning wrapped under itself. */
export function exitCodesHelp(meanings: ExitCodeMeanings, width = HELP_WIDTH): string {
  const lines = declaredExitCodes(meanings).map((code) => {
    const wrapped = wrapper.boxWrap(meanings[code] ?? '', width - CODE_COLUMN);
    return `  ${String(code).padEnd(CODE_COLUMN - 2)}${wrapped.replace(/\n/g, `\n${' '.repeat(CODE_COLUMN)}`)}`;
  });
  return `\nExit codes:\n${lines.join('\n')}\n`;
}
