import { describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from '../support/cli.js';

const COMMANDS = [
  ['scan'],
  ['diagnose'],
  ['suspects'],
  ['report'],
  ['seed'],
  ['demo'],
  ['constraint', 'add'],
  ['constraint', 'status'],
  ['constraint', 'drop'],
  ['index', 'add'],
  ['index', 'drop'],
  ['sql', 'upsert'],
  ['clean'],
  ['runs'],
  ['restore'],
];

/** Every help page as a DBA reads it: examples, the exit codes, defaults shown one way, only the flags the command uses. */
describe('--help of every command (built binary)', () => {
  it.each(COMMANDS)('%s %s', async (...command) => {
    assertBuilt();
    const { code, stdout } = await runCli([...command.filter(Boolean), '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/\nExamples:\n {2}\$ lead-dedupe /);
    expect(stdout).toMatch(/\nExit codes:\n {2}0 {3}success/);
    expect(stdout).toContain('\n  130 stopped by SIGINT/SIGTERM');
    expect(stdout).not.toContain('(default: [])');
    expect(stdout).not.toMatch(/default: "[^"]*"\)/);
  });

  it('commands that read no key columns do not offer --id-column, --created-column or the column map --map <logical=column>', async () => {
    for (const command of [['seed'], ['runs'], ['restore']]) {
      const { stdout } = await runCli([...command, '--help']);
      // restore's own --map <archived=column> maps archived columns to renamed ones, not key columns
      expect(stdout, command.join(' ')).not.toMatch(/--id-column|--created-column|--map <logical/);
    }
  });
});
