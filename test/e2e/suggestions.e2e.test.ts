import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../src/seed/seed.js';
import { assertBuilt, BIN, PRINTED_INVOCATION, runCli } from '../support/cli.js';
import { sqlOracle } from '../support/oracle.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/** No PG* variable or DATABASE_URL: a pasted command reaches the database only through what it names. */
const bare = Object.fromEntries(
  Object.keys(process.env)
    .filter((name) => name.startsWith('PG'))
    .map((name) => [name, '']),
);
const cli = (args: string[]) => runCli(args, { env: { LEAD_DEDUPE_DEBUG: '', ...bare } });

/** Runs a suggested command line exactly as printed through a POSIX shell, from the folder the binary ran in, as a DBA pasting it would. */
function paste(
  line: string,
  where: { cwd?: string; env?: NodeJS.ProcessEnv; invocation?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  expect(line.startsWith(`${where.invocation ?? PRINTED_INVOCATION} `)).toBe(true);
  const env = { ...process.env, DATABASE_URL: '', LEAD_DEDUPE_DEBUG: '', ...bare, ...where.env };
  return new Promise((resolve) => {
    execFile('sh', ['-c', line], { cwd: where.cwd, env }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe.skipIf(!SERVER_URL)('suggested commands are complete and pasteable; restore conflicts in full (server, built binary)', () => {
  let test: TestDatabase;
  let url: URL;

  beforeAll(async () => {
    assertBuilt();
    test = await TEST_TARGETS.find((t) => t.label === 'postgres')!.open();
    url = new URL(test.url!);
    url.password = 'not-the-password'; // trust auth ignores it; it must never be echoed
    await test.query('create schema crm');
    await seed(test.database, { table: 'crm.people', rows: 600, scenario: 'production', replace: false });
  });
  afterAll(async () => test?.close());

  it('the constraint refusal names -d (no password) and --table, and suggests the dry run: pasted, it plans and changes nothing', async () => {
    const refused = await cli(['constraint', 'add', '--key', 'device-phone', '--table', 'crm.people', '-d', url.href]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).not.toContain('not-the-password');
    const [message, suggested, ...rest] = refused.stderr.split('\n');
    expect(message).toMatch(
      /; review the plan with the clean dry run below \(-d without the password given: PGPASSWORD or ~\/\.pgpass supplies it\), then run it with --execute$/,
    );
    expect(rest).toEqual(['']);
    const noPassword = new URL(url.href);
    noPassword.password = '';
    expect(suggested).toBe(`  ${PRINTED_INVOCATION} clean -d ${noPassword.href} --key device-phone --table crm.people`);
    const [{ n: before }] = (await test.query<{ n: number }>('select count(*)::int as n from crm.people')) as [{ n: number }];
    const pasted = await paste(suggested!.trim());
    expect(pasted.code).toBe(0);
    expect(pasted.stdout).toContain('Nothing was changed');
    expect(await test.query('select count(*)::int as n from crm.people')).toEqual([{ n: before }]);
  });

  it('a restore conflict on an expression index: the whole key and values, nothing changed, and a pasteable constraint drop', async () => {
    const key = ['--key', 'device-phone', '--normalize', 'phone=e164', '--default-country', 'MY', '--table', 'crm.people', '-d', url.href];
    const cleaned = await cli(['clean', ...key, '--execute']);
    expect(cleaned.code).toBe(0);
    const undo = /\(without --execute it rehearses\):\n {2}(.* restore \d+ -d \S+ --execute)\n/.exec(cleaned.stdout)?.[1];
    expect(undo).toBeDefined();
    expect(cleaned.stdout).not.toContain('not-the-password');
    // the dry run of constraint add, then the build
    expect((await cli(['constraint', 'add', ...key])).stdout).toContain('dry run: nothing changed');
    expect((await cli(['constraint', 'add', ...key, '--execute'])).code).toBe(0);
    const [{ n: before }] = (await test.query<{ n: number }>('select count(*)::int as n from crm.people')) as [{ n: number }];
    // The archived duplicates collide with the expression index: the conflict PostgreSQL reports, oracle from the archive.
    const conflict = await paste(undo!);
    expect(conflict.code).toBe(1);
    const lines = conflict.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^lead-dedupe: restoring run \d+ would violate constraint people_device_id_phone_e164_key on people \(Key \(device_id, .*\)=\(\d+, \+?\d+\) already exists\.\); nothing was changed; to restore anyway, drop it with the command below, restore again, then /,
    );
    expect(lines[1]).toBe(
      `  ${PRINTED_INVOCATION} constraint drop people_device_id_phone_e164_key -d ${/ -d (\S+)/.exec(undo!)![1]} --table crm.people --execute`,
    );
    expect(await test.query('select count(*)::int as n from crm.people')).toEqual([{ n: before }]);
    expect((await paste(lines[1]!.trim())).code).toBe(0);
    expect((await paste(undo!)).code).toBe(0);
    expect((await test.query<{ n: number }>('select count(*)::int as n from crm.people'))[0]!.n).toBeGreaterThan(before);
  });

  it('run as an installed bin (a link named lead-dedupe on PATH) from another folder, on a table whose names hold spaces: each hint pasted as printed works', async () => {
    const home = mkdtempSync(join(tmpdir(), 'lead-dedupe-bin-'));
    try {
      mkdirSync(join(home, 'bin'));
      symlinkSync(BIN, join(home, 'bin', 'lead-dedupe'));
      const env = { PATH: `${join(home, 'bin')}${delimiter}${process.env.PATH}` };
      await test.query('create schema "crm data"');
      await seed(test.database, { table: 'crm data.people list', rows: 300, scenario: 'production', replace: false });
      // typed as `lead-dedupe …`: the shell finds the link on PATH
      const shell = (line: string) => paste(line, { cwd: home, env, invocation: 'lead-dedupe' });
      const installed = (args: string[]) => shell(['lead-dedupe', ...args.map((word) => `'${word}'`)].join(' '));
      const key = ['--key', 'device-phone', '--table', 'crm data.people list', '-d', test.url!];
      const [{ n: rows }] = (await test.query<{ n: number }>('select count(*)::int as n from "crm data"."people list"')) as [{ n: number }];
      const oracle = await sqlOracle(test, '"crm data"."people list"', ['device_id', 'phone'], true);

      // constraint add (its dry run) → the clean dry run, on a line of its own, quoted
      const refused = await installed(['constraint', 'add', ...key]);
      expect(refused.code).toBe(3);
      const clean = refused.stderr.split('\n')[1]!;
      expect(clean).toBe(`  lead-dedupe clean -d ${test.url!} --key device-phone --table 'crm data.people list'`);
      const planned = await shell(clean.trim());
      expect(planned.code, planned.stderr).toBe(0);
      expect(planned.stdout).toContain('Nothing was changed');

      // clean --execute → restore (a rehearsal without --execute, then for real): the rows come back
      const cleaned = await installed(['clean', ...key, '--execute']);
      expect(cleaned.code, cleaned.stderr).toBe(0);
      const undo = /\(without --execute it rehearses\):\n {2}(.*)\n/.exec(cleaned.stdout)![1]!;
      expect(undo).toMatch(/^lead-dedupe restore \d+ -d \S+ --execute$/);
      expect((await test.query<{ n: number }>('select count(*)::int as n from "crm data"."people list"'))[0]!.n).toBe(rows - oracle.surplus);
      const rehearsed = await shell(undo.replace(/ --execute$/, ''));
      expect(rehearsed.code, rehearsed.stderr).toBe(0);
      const restored = await shell(undo);
      expect(restored.code, restored.stderr).toBe(0);
      expect((await test.query<{ n: number }>('select count(*)::int as n from "crm data"."people list"'))[0]!.n).toBe(rows);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
