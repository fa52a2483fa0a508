import { HELP_WIDTH } from './exit-codes-help.js';

/**
 * "Examples:" as --help ends with it. A trailing `# comment` goes on its own line above the command, and a
 * command longer than the width is continued with ` \` before a flag, so every line can be pasted as printed.
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
