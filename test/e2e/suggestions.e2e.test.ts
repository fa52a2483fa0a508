import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../src/seed/seed.js';
import { BIN, assertBuilt, runCli } from '../support/cli.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/** No PG* variable or DATABASE_URL: a pasted command reaches the database only through what it names. */
const bare = Object.fromEntries(
  Object.keys(process.env)
    .filter((name) => name.startsWith('PG'))
    .map((name) => [name, '']),
);
const cli = (args: string[]) => runCli(args, { env: { LEAD_DEDUPE_DEBUG: '', ...bare } });

/** Runs a suggested command line through a POSIX shell, as a DBA pasting it would (lead-dedupe = the built binary). */
function paste(line: string): Promise<{ code: number; stdout: string; stderr: string }> {
  expect(line.startsWith('lead-dedupe ')).toBe(true);
  const script = `lead_dedupe() { exec "${process.execPath}" "${BIN}" "$@"; }; lead_dedupe ${line.slice('lead-dedupe '.length)}`;
  return new Promise((resolve) => {
    execFile('sh', ['-c', script], { env: { ...process.env, DATABASE_URL: '', LEAD_DEDUPE_DEBUG: '', ...bare } }, (error, stdout, stderr) => {
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
    const suggested = /review the plan with (lead-dedupe clean .*), then run it with --execute\n$/.exec(refused.stderr)?.[1];
    const noPassword = new URL(url.href);
    noPassword.password = '';
    expect(suggested).toBe(`lead-dedupe clean -d ${noPassword.href} --key device-phone --table crm.people`);
    const [{ n: before }] = (await test.query<{ n: number }>('select count(*)::int as n from crm.people')) as [{ n: number }];
    const pasted = await paste(suggested!);
    expect(pasted.code).toBe(0);
    expect(pasted.stdout).toContain('Nothing was changed');
    expect(await test.query('select count(*)::int as n from crm.people')).toEqual([{ n: before }]);
  });

  it('a restore conflict on an expression index: the whole key and values, nothing changed, and a pasteable constraint drop', async () => {
    const key = ['--key', 'device-phone', '--normalize', 'phone=e164', '--default-country', 'MY', '--table', 'crm.people', '-d', url.href];
    const cleaned = await cli(['clean', ...key, '--execute']);
    expect(cleaned.code).toBe(0);
    const undo = /undo with \(without --execute it rehearses\):\n {2}(lead-dedupe restore \d+ -d \S+) --execute\n/.exec(cleaned.stdout)?.[1];
    expect(undo).toBeDefined();
    expect(cleaned.stdout).not.toContain('not-the-password');
    expect((await cli(['constraint', 'add', ...key])).code).toBe(0);
    const [{ n: before }] = (await test.query<{ n: number }>('select count(*)::int as n from crm.people')) as [{ n: number }];
    // The archived duplicates collide with the expression index: the conflict PostgreSQL reports, oracle from the archive.
    const conflict = await paste(`${undo!} --execute`);
    expect(conflict.code).toBe(1);
    const lines = conflict.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^lead-dedupe: database error|^lead-dedupe: restoring run \d+ would violate constraint people_device_id_phone_e164_key on people \(Key \(device_id, .*\)=\(\d+, \+?\d+\) already exists\.\); nothing was changed; to restore anyway: lead-dedupe constraint drop people_device_id_phone_e164_key -d \S+ --table crm\.people --execute, restore again, then /,
    );
    expect(lines[0]).not.toMatch(/^lead-dedupe: database error/);
    expect(await test.query('select count(*)::int as n from crm.people')).toEqual([{ n: before }]);
    const drop = /to restore anyway: (lead-dedupe constraint drop .*? --execute),/.exec(lines[0]!)![1]!;
    expect((await paste(drop)).code).toBe(0);
    expect((await paste(`${undo!} --execute`)).code).toBe(0);
    expect((await test.query<{ n: number }>('select count(*)::int as n from crm.people'))[0]!.n).toBeGreaterThan(before);
  });
});
