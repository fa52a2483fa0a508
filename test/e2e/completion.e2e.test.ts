import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from '../support/cli.js';
import { haveTool } from '../support/host-tool.js';

const HAVE = { bash: haveTool('bash', 'bash'), zsh: haveTool('zsh', 'zsh'), fish: haveTool('fish', 'fish'), groff: haveTool('groff', 'groff-base') };
const missing = (tool: keyof typeof HAVE) => (HAVE[tool] ? '' : ` (skipped: ${tool} is not installed)`);
const dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-completion-'));
const scripts: Record<'bash' | 'zsh' | 'fish', string> = { bash: '', zsh: '', fish: '' };

beforeAll(async () => {
  assertBuilt();
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    const { code, stdout } = await runCli(['completion', shell]);
    expect(code).toBe(0);
    scripts[shell] = join(dir, `lead-dedupe.${shell}`);
    writeFileSync(scripts[shell], stdout);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the completion function offers for a command line whose last word is being typed (bash's own calling convention). */
function complete(shell: 'bash' | 'zsh', words: string[]): string[] {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
  const driver = 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=(); _lead_dedupe; printf "%s\\n" "${COMPREPLY[@]}"';
  const args = shell === 'bash' ? ['-c', driver, 'driver', scripts.bash, ...words] : ['-f', '-c', driver, 'driver', scripts.zsh, ...words];
  return execFileSync(shell, args, { encoding: 'utf8' }).split('\n').filter(Boolean);
}

describe.runIf(HAVE.bash)(`lead-dedupe completion bash (sourced in bash, driven through its completion function)${missing('bash')}`, () => {
  it('registers itself for lead-dedupe', () => {
    const registered = execFileSync('bash', ['-c', 'source "$1"; complete -p lead-dedupe', 'driver', scripts.bash], { encoding: 'utf8' });
    expect(registered.trim()).toBe('complete -o filenames -F _lead_dedupe lead-dedupe');
  });

  it("completes subcommands, a group's subcommands and an argument's choices", () => {
    expect(complete('bash', ['lead-dedupe', 's'])).toEqual(['scan', 'suspects', 'seed', 'sql']);
    expect(complete('bash', ['lead-dedupe', 'constraint', ''])).toEqual(['add', 'status', 'drop', '--help', '-h']);
    expect(complete('bash', ['lead-dedupe', 'completion', ''])).toEqual(['bash', 'zsh', 'fish', '--help', '-h']);
  });

  it("completes each command's own --options, after flags that took a value", () => {
    expect(complete('bash', ['lead-dedupe', 'scan', '--fail'])).toEqual(['--fail-on-duplicates']);
    expect(complete('bash', ['lead-dedupe', 'scan', '-d', 'postgres://x', '--t'])).toEqual(['--table', '--top']);
    expect(complete('bash', ['lead-dedupe', 'index', 'add', '--ex'])).toEqual(['--execute']);
    expect(complete('bash', ['lead-dedupe', 'runs', '--ex'])).toEqual([]);
  });

  it("completes a flag's choices", () => {
    expect(complete('bash', ['lead-dedupe', 'scan', '--format', ''])).toEqual(['table', 'json', 'csv', 'prometheus']);
    expect(complete('bash', ['lead-dedupe', 'clean', '--keep', 'm'])).toEqual(['most-complete']);
  });
});

describe('lead-dedupe completion zsh and fish', () => {
  it.runIf(HAVE.zsh)(
    `zsh: parses, loads through bashcompinit, and its function offers the same words (zsh filters them by prefix itself)${missing('zsh')}`,
    () => {
      execFileSync('zsh', ['-n', scripts.zsh]);
      expect(complete('zsh', ['lead-dedupe', 'constraint', ''])).toEqual(['add', 'status', 'drop', '--help', '-h']);
      expect(complete('zsh', ['lead-dedupe', 'scan', '--format', ''])).toEqual(['table', 'json', 'csv', 'prometheus']);
      expect(complete('zsh', ['lead-dedupe', 'scan', '-d', 'x', ''])).toContain('--top');
    },
  );

  it.runIf(HAVE.fish)(`fish: parses, and fish completes subcommands, options and choices from it${missing('fish')}`, () => {
    execFileSync('fish', ['-n', scripts.fish]);
    const fish = (line: string) =>
      execFileSync('fish', ['-c', `source ${scripts.fish}; complete -C "${line}"`], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map((entry) => entry.split('\t')[0]);
    expect(fish('lead-dedupe constraint ').sort()).toEqual(['add', 'drop', 'status']);
    expect(fish('lead-dedupe scan --format ').sort()).toEqual(['csv', 'json', 'prometheus', 'table']);
    expect(fish('lead-dedupe index add --ex')).toEqual(['--execute']);
  });
});

describe.runIf(HAVE.groff)(`lead-dedupe man${missing('groff')}`, () => {
  it('is roff that groff reads without a warning, naming every command and its exit status', async () => {
    const { code, stdout } = await runCli(['man']);
    expect(code).toBe(0);
    const page = join(dir, 'lead-dedupe.1');
    writeFileSync(page, stdout);
    const warnings = execFileSync('groff', ['-man', '-Tutf8', '-ww', '-z', page], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(warnings).toBe('');
    const text = execFileSync('groff', ['-man', '-Tascii', '-P-c', '-P-b', '-P-u', page], { encoding: 'utf8' });
    for (const command of ['scan', 'diagnose', 'clean', 'restore', 'constraint add', 'sql upsert', 'completion']) {
      expect(text).toContain(`lead-dedupe ${command} `);
    }
    expect(text).toContain('Exit status:');
  });
});
