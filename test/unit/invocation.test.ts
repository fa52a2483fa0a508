import { describe, expect, it } from 'vitest';
import { invocationWords } from '../../src/cli/invocation.js';
import { keyCommand, restoreCommandFor, SAME_SHELL } from '../../src/keys/key-command-line.js';
import type { ResolvedKey } from '../../src/keys/key-definition.js';

const node = '/usr/bin/node';

describe('invocationWords: how a suggested command starts, as the user started this run', () => {
  it('an installed bin on PATH: its name', () => {
    expect(invocationWords([node, '/usr/local/bin/lead-dedupe', 'clean'], { PATH: '/usr/bin:/usr/local/bin' }, '/home/dba')).toEqual(['lead-dedupe']);
  });

  it('a bin link off PATH: its absolute path', () => {
    expect(invocationWords([node, '/opt/tools/bin/lead-dedupe'], { PATH: '/usr/bin' }, '/home/dba')).toEqual(['/opt/tools/bin/lead-dedupe']);
  });

  it('npx / npm exec: the bin link under node_modules/.bin, npm_command=exec', () => {
    const env = { PATH: '/usr/bin', npm_command: 'exec', npm_lifecycle_event: 'npx' };
    expect(invocationWords([node, '/home/dba/.npm/_npx/1a2b/node_modules/.bin/lead-dedupe'], env, '/home/dba/crm')).toEqual(['npx', 'lead-dedupe']);
    expect(invocationWords([node, '/home/dba/crm/node_modules/.bin/lead-dedupe'], env, '/home/dba/crm')).toEqual(['npx', 'lead-dedupe']);
  });

  it('node path/bin/lead-dedupe.js: node and the path from the working folder, or absolute outside it', () => {
    expect(invocationWords([node, '/src/lead-dedupe/bin/lead-dedupe.js'], {}, '/src/lead-dedupe')).toEqual(['node', 'bin/lead-dedupe.js']);
    expect(invocationWords([node, '/src/lead-dedupe/bin/lead-dedupe.js'], {}, '/tmp')).toEqual(['node', '/src/lead-dedupe/bin/lead-dedupe.js']);
  });

  it('npm inherited by a process that runs the .js directly (a test runner under npx vitest) changes nothing', () => {
    const env = { npm_command: 'exec', npm_lifecycle_event: 'npx', INIT_CWD: '/src/lead-dedupe' };
    expect(invocationWords([node, '/src/lead-dedupe/bin/lead-dedupe.js'], env, '/src/lead-dedupe')).toEqual(['node', 'bin/lead-dedupe.js']);
  });

  it('npm run demo: started in the package folder; typed in INIT_CWD, where only the absolute path is sure', () => {
    const env = { npm_command: 'run', npm_lifecycle_event: 'demo' };
    expect(invocationWords([node, '/src/ld/bin/lead-dedupe.js'], { ...env, INIT_CWD: '/src/ld' }, '/src/ld')).toEqual(['node', 'bin/lead-dedupe.js']);
    expect(invocationWords([node, '/src/ld/bin/lead-dedupe.js'], { ...env, INIT_CWD: '/src/ld/docs' }, '/src/ld')).toEqual([
      'node',
      '/src/ld/bin/lead-dedupe.js',
    ]);
  });
});

describe('suggested commands: the invocation first, every word quoted for a POSIX shell only when it needs it (shlex)', () => {
  const key = {
    name: 'phone',
    columns: [{ logical: 'phone', column: 'mobile no', normalize: null }],
    defaultCountry: null,
    nullsEqual: false,
    table: { info: { schema: 'Sales Data', name: "O'Leads" }, idColumn: 'id', createdColumn: null },
  } as unknown as ResolvedKey;

  it('spaces and quotes survive; plain words stay bare', () => {
    const context = { ...SAME_SHELL, invocation: ['node', '/src/my tools/bin/lead-dedupe.js'], connection: ['-d', 'postgres://dba@db1/crm'] };
    expect(keyCommand(key, ['clean'], ['--execute'], context)).toBe(
      `node '/src/my tools/bin/lead-dedupe.js' clean -d postgres://dba@db1/crm --key phone --table 'Sales Data.O'"'"'Leads' --map 'phone=mobile no' --execute`,
    );
    expect(restoreCommandFor(7, 'lead_dedupe', { execute: true }, { ...SAME_SHELL, invocation: ['npx', 'lead-dedupe'] })).toBe(
      'npx lead-dedupe restore 7 --execute',
    );
  });
});
