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

/**
 * "Examples:" as --help ends with it. A trailing `# comment` goes on its own line above the command, and a
 * command longer than the width is continued with ` \` at a space, so every line can be pasted as printed.
 */
export function examplesHelp(examples: readonly string[], width = HELP_WIDTH): string {
  if (examples.length === 0) return '';
  const blocks = examples.map((example) => {
    const [command = '', comment] = example.split(/\s+#\s+/, 2);
    const lines = continued(`$ ${command.trim()}`, width - 2, 4);
    return [...(comment === undefined ? [] : [`# ${comment}`]), ...lines].map((line) => `  ${line}`).join('\n');
  });
  return `\nExamples:\n${blocks.join('\n')}\n`;
}

function continued(command: string, width: number, indent: number): string[] {
  // a flag and its value stay together: break only before a word that starts with -
  const segments: string[] = [];
  for (const word of command.split(' ')) {
    if (word.startsWith('-') || segments.length === 0) segments.push(word);
    else segments[segments.length - 1] += ` ${word}`;
  }
  const lines: string[] = [];
  let line = segments.shift() ?? '';
  for (const segment of segments) {
    const limit = width - (lines.length === 0 ? 0 : indent) - 2;
    if (line.length + 1 + segment.length > limit) {
      lines.push(`${line} \\`);
      line = segment;
    } else line = `${line} ${segment}`;
  }
  lines.push(line);
  return lines.map((text, index) => (index === 0 ? text : `${' '.repeat(indent)}${text}`));
}
