import { describe, expect, it } from 'vitest';
import type { CommandSpec } from '../../src/cli/command-spec.js';
import { examplesHelp } from '../../src/cli/examples-help.js';
import { exitCodesHelp } from '../../src/cli/exit-codes-help.js';
import { COMMANDS } from '../../src/commands/index.js';

function all(specs: readonly CommandSpec[]): CommandSpec[] {
  return specs.flatMap((spec) => [spec, ...all(spec.subcommands ?? [])]);
}

describe('help text laid out for 80 columns', () => {
  const examples = all(COMMANDS).flatMap((spec) => spec.examples ?? []);

  it.each(examples)('%s: continued lines paste back into the same command, none wider than 80', (example) => {
    const printed = examplesHelp([example]);
    const lines = printed.split('\n').filter((line) => line.startsWith('  '));
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(80);
    // what a shell reads: the comment line dropped, each ` \` + newline + indent joined back
    const pasted = lines
      .filter((line) => !line.startsWith('  # '))
      .join('\n')
      .replace(/ \\\n {6}/g, ' ')
      .replace(/^ {2}\$ /, '');
    expect(pasted).toBe(example.split(/\s+#\s+/)[0]?.trim());
  });

  it('wraps an exit code meaning under itself, not under the code', () => {
    const meaning = 'a meaning long enough that it has to wrap onto a second line, and onto a third one, at sixty columns';
    const [, heading, ...lines] = exitCodesHelp({ 1: meaning, 130: 'short' }, 60).trimEnd().split('\n');
    expect(heading).toBe('Exit codes:');
    expect(lines[0]).toMatch(/^ {2}1 {4}a meaning/);
    expect(lines.at(-1)).toBe('  130  short');
    const wrapped = lines.slice(1, -1);
    expect(wrapped.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(60);
    for (const line of wrapped) expect(line).toMatch(/^ {7}\S/);
    expect([lines[0]?.slice(7), ...wrapped.map((line) => line.slice(7))].join(' ')).toBe(meaning);
  });
});
