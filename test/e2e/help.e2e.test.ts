import { describe, expect, it } from 'vitest';
import type { CommandSpec } from '../../src/cli/command-spec.js';
import { declaredExitCodes } from '../../src/cli/exit-codes-help.js';
import { COMMANDS } from '../../src/commands/index.js';
import { assertBuilt, runCli } from '../support/cli.js';

/** Every command that runs (groups such as `constraint` only hold others), with its words. */
function leaves(specs: readonly CommandSpec[], path: string[] = []): { words: string[]; spec: CommandSpec }[] {
  return specs.flatMap((spec) => (spec.subcommands ? leaves(spec.subcommands, [...path, spec.name]) : [{ words: [...path, spec.name], spec }]));
}

const LEAVES = leaves(COMMANDS);

/** The codes an "Exit codes:" section lists: the numbers that start its lines. */
function listedExitCodes(help: string): number[] {
  const section = help.split('\nExit codes:\n')[1] ?? '';
  return [...section.matchAll(/^ {2}(\d+) /gm)].map((match) => Number(match[1]));
}

/** Every help page as a DBA reads it: examples, the exit codes, defaults shown one way, only the flags the command uses. */
describe('--help of every command (built binary)', () => {
  it('lists every command that runs (the table below is not missing one)', () => {
    expect(LEAVES.length).toBeGreaterThanOrEqual(15);
  });

  it.each(LEAVES.map(({ words, spec }) => [words.join(' '), spec] as const))('%s', async (name, spec) => {
    assertBuilt();
    const { code, stdout } = await runCli([...name.split(' '), '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/\nExamples:\n( {2}# .*\n)? {2}\$ lead-dedupe /);
    expect(stdout).toMatch(/\nExit codes:\n {2}0 {4}success/);
    expect(spec.exitCodes, `${name} declares its exit codes`).toBeDefined();
    expect(listedExitCodes(stdout)).toEqual(declaredExitCodes(spec.exitCodes ?? {}));
    expect(stdout).not.toContain('(default: [])');
    expect(stdout).not.toMatch(/default: "[^"]*"\)/);
  });

  it('no help line is wider than 80 columns, piped, COLUMNS=200 set or not', async () => {
    for (const words of [[], ...LEAVES.map((leaf) => leaf.words), ['constraint'], ['index'], ['sql']]) {
      const { stdout } = await runCli([...words, '--help'], { env: { COLUMNS: '200' } });
      const wide = stdout.split('\n').filter((line) => [...line].length > 80);
      expect(wide, `lead-dedupe ${words.join(' ')} --help`).toEqual([]);
    }
  });

  it('scan lists neither the table lock of clean nor a run marked interrupted', async () => {
    const { stdout } = await runCli(['scan', '--help']);
    expect(stdout).not.toContain('final ALTER');
    expect(stdout).not.toContain('marked interrupted');
  });

  it('the top-level help ends with examples, each pasteable as printed', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/\nExamples:\n/);
    expect(stdout).toContain('$ lead-dedupe scan');
    expect(stdout).toContain('$ lead-dedupe clean --key device-phone');
  });

  it('commands that read no key columns do not offer --id-column, --created-column or the column map --map <logical=column>', async () => {
    for (const command of [['seed'], ['runs'], ['restore']]) {
      const { stdout } = await runCli([...command, '--help']);
      // restore's own --map <archived=column> maps archived columns to renamed ones, not key columns
      expect(stdout, command.join(' ')).not.toMatch(/--id-column|--created-column|--map <logical/);
    }
  });
});
