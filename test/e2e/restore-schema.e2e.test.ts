import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { CLI_DATABASE_LABEL, type CliDatabase, openCliDatabase } from '../support/cli-database.js';

/**
 * `restore` through the built binary after a schema change (exit 2 naming
 * the column, then --map), and a restore with conflicts that `runs` shows
 * and `restore --force` finishes.
 */
const cli = (...args: string[]) => runCli(args, { env: { COLUMNS: '250' } });

describe(`restore through the binary (${CLI_DATABASE_LABEL})`, () => {
  let db: CliDatabase;
  let database: string;

  const query = <R>(text: string) => db.query<R>(text);
  const checksum = async () =>
    (
      await query<{ md5: string }>(
        `select md5(string_agg((to_jsonb(t) - 'note' - 'email_address' || jsonb_build_object('email', t.email_address))::text, ',' order by id)) as md5 from leads t`,
      )
    )[0]!.md5;

  beforeAll(async () => {
    db = await openCliDatabase('lead-dedupe-restore-e2e-');
    ({ database } = db);
    const seeded = await cli('seed', '--database', database, '--rows', '1000');
    expect(seeded.code, seeded.stderr).toBe(0);
  });
  afterAll(async () => db?.close());

  it('a renamed column: exit 2 naming it, nothing changed; --map restores every value, a new column takes its default', async () => {
    const [original] = await query<{ md5: string }>(`select md5(string_agg(to_jsonb(t)::text, ',' order by id)) as md5 from leads t`);
    const cleaned = await cli('clean', '--database', database, '--key', 'device-phone', '--execute');
    expect(cleaned.code, cleaned.stderr).toBe(0);
    await query(`alter table leads rename column email to email_address`);
    await query(`alter table leads add column note text default 'x'`);
    const changed = await checksum();

    const refused = await cli('restore', '1', '--database', database, '--execute');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      'lead-dedupe: run 1 archived a column public.leads no longer has: email; nothing was changed. Map each to the column that holds it now (--map email=<column>) or restore without its values (--drop-column email)\n',
    );
    expect(await checksum()).toBe(changed);
    const badMap = await cli('restore', '1', '--database', database, '--map', 'email', '--execute');
    expect(badMap.code).toBe(2);
    expect(badMap.stderr).toMatch(/^lead-dedupe: --map takes <archived column>=<column now>/);

    const restored = await cli('restore', '1', '--database', database, '--map', 'email=email_address', '--execute');
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain('email → email_address');
    expect(restored.stdout).toMatch(/columns added since the clean \(their defaults\)\s*│ note/);
    expect(await checksum()).toBe(original!.md5);
    expect(await query(`select count(*)::int as n from leads where note is distinct from 'x'`)).toEqual([{ n: 0 }]);
  });

  it('a restore with conflicts is marked so, runs shows it, a plain restore says how to finish, --force finishes it', async () => {
    const cleaned = await cli('clean', '--database', database, '--key', 'device-phone', '--execute');
    expect(cleaned.code, cleaned.stderr).toBe(0);
    const [run] = await query<{ id: string }>(`select max(id)::text as id from lead_dedupe.lead_dedupe_runs`);
    const id = run!.id;
    const [keeper] = await query<{ id: string; column: string }>(
      `select row_id as id, merged_columns[1] as column from lead_dedupe.lead_dedupe_keepers where run_id = ${id} and cardinality(merged_columns) > 0 order by row_id::bigint limit 1`,
    );
    // the application changes a column the merge filled (a text column of the seed's leads)
    await query(`update leads set "${keeper!.column}" = 'Changed by the app' where id = ${keeper!.id}`);

    const first = await cli('restore', id, '--database', database, '--execute');
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('(marked restored with conflicts)');
    const runs = await cli('runs', '--database', database);
    expect(runs.code, runs.stderr).toBe(0);
    expect(runs.stdout.split('\n').find((line) => new RegExp(`^\\W*${id}\\s`).test(line))).toContain('restored with conflicts');
    expect(runs.stdout).toContain(`run ${id}: 1 merged keeper column(s) left as the application changed them; restore ${id} --force --execute puts them back`);
    const again = await cli('restore', id, '--database', database, '--execute');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(
      new RegExp(
        `^lead-dedupe: run ${id} is restored with conflicts: .*restore --force \\(the command below\\) puts them back\n {2}.* restore ${id} --force -d \\S+ --execute\n$`,
      ),
    );
    const forced = await cli('restore', id, '--database', database, '--force', '--execute');
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain(`finished the restore of run ${id}`);
    expect(await query(`select status from lead_dedupe.lead_dedupe_runs where id = ${id}`)).toEqual([{ status: 'restored' }]);
    expect(await query(`select "${keeper!.column}" is distinct from 'Changed by the app' as back from leads where id = ${keeper!.id}`)).toEqual([
      { back: true },
    ]);
  });
});
