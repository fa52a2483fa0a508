import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../src/seed/seed.js';
import { assertBuilt, runCli } from '../support/cli.js';
import { dropRole, SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/**
 * `restore` and `runs` as a user with every right on the leads but none on
 * the archive: exit 2 with one line naming what is missing and the GRANTs
 * that give it, before any change (they used to fail with a raw 42501 on
 * their first read of the archive, exit 1). Once granted, they run.
 */
describe.skipIf(!SERVER_URL)('restore and runs without rights on the archive (server, built binary)', () => {
  let test: TestDatabase;
  const role = `ld_archive_${randomBytes(4).toString('hex')}`;
  let asRole: string;

  beforeAll(async () => {
    assertBuilt();
    test = await TEST_TARGETS.find((t) => t.label === 'postgres')!.open();
    await seed(test.database, { table: 'leads', rows: 1000, scenario: 'production', replace: false });
    const cleaned = await runCli(['clean', '--key', 'device-phone', '--execute', '--database', test.url!]);
    expect(cleaned.code, cleaned.stderr).toBe(0);
    await test.exec(`create role ${role} login; grant select, insert, update, delete on all tables in schema public to ${role}`);
    const url = new URL(test.url!);
    url.username = role;
    asRole = url.toString();
  });
  afterAll(async () => {
    await test?.exec(`drop owned by ${role}`).catch(() => undefined);
    await test?.close();
    await dropRole(role);
  });

  const fingerprint = async () =>
    (
      await test.query<{ f: string }>(`select concat_ws('|', (select md5(string_agg(t::text, ',' order by id)) from leads t),
        (select string_agg(id || ':' || status, ',' order by id) from lead_dedupe.lead_dedupe_runs)) as f`)
    )[0]!.f;

  it('restore (dry run and --execute) and runs: exit 2, one line with the missing privileges and the GRANTs; nothing changed', async () => {
    const before = await fingerprint();
    // hand-written: the archive tables that exist, each lacking SELECT for the role
    const tables = (
      await test.query<{ name: string }>(`select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'lead_dedupe' and c.relname in ('lead_dedupe_runs', 'lead_dedupe_removed', 'lead_dedupe_keepers', 'lead_dedupe_moved', 'lead_dedupe_skipped')
          and not has_table_privilege('${role}', c.oid, 'SELECT')`)
    ).map((row) => row.name);
    expect(tables).toContain('lead_dedupe_runs');
    for (const [command, args] of [
      ['restore', ['restore', '1']],
      ['restore', ['restore', '1', '--execute']],
      ['runs', ['runs']],
    ] as const) {
      const run = await runCli([...args, '--database', asRole]);
      expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toContain(`lead-dedupe: database user ${role} lacks USAGE on the archive schema lead_dedupe, `);
      for (const table of tables) expect(run.stderr).toContain(`SELECT on lead_dedupe.${table}`);
      expect(run.stderr).toContain(
        `which ${command} reads first; as the archive's owner run: GRANT USAGE ON SCHEMA lead_dedupe TO ${role}; GRANT SELECT ON ALL TABLES IN SCHEMA lead_dedupe TO ${role}; nothing was changed\n`,
      );
    }
    expect(await fingerprint()).toBe(before);
  });

  it('after the GRANTs it names (and INSERT/UPDATE, which --execute adds), restore --execute runs', async () => {
    await test.exec(`grant usage on schema lead_dedupe to ${role}; grant select, insert, update on all tables in schema lead_dedupe to ${role}`);
    const runs = await runCli(['runs', '--database', asRole]);
    expect(runs.code, runs.stderr).toBe(0);
    const restored = await runCli(['restore', '1', '--execute', '--database', asRole]);
    expect(restored.code, restored.stderr).toBe(0);
  });
});
