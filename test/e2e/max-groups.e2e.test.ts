import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { CLI_DATABASE_LABEL, type CliDatabase, openCliDatabase } from '../support/cli-database.js';

/** A run capped by --max-groups says how many duplicate groups remain, checked against a hand-written count. */
const cli = (...args: string[]) => runCli(args, { env: { COLUMNS: '250' } });

describe(`clean --max-groups through the binary (${CLI_DATABASE_LABEL})`, () => {
  let db: CliDatabase;
  let database: string;

  const query = <R>(text: string) => db.query<R>(text);
  const duplicateGroups = async () =>
    Number(
      (
        await query<{ n: string }>(`select count(*) as n from (select 1 from leads where phone is not null group by device_id, phone having count(*) > 1) g`)
      )[0]!.n,
    );

  beforeAll(async () => {
    db = await openCliDatabase('lead-dedupe-max-groups-e2e-');
    ({ database } = db);
    const seeded = await cli('seed', '--database', database, '--rows', '1000');
    expect(seeded.code, seeded.stderr).toBe(0);
  });
  afterAll(async () => db?.close());

  it('reports the groups that remain in JSON and in the table', async () => {
    const before = await duplicateGroups();
    expect(before).toBeGreaterThan(15);
    const json = await cli('clean', '--database', database, '--key', 'device-phone', '--execute', '--max-groups', '10', '--format', 'json');
    expect(json.code, json.stderr).toBe(0);
    const result = JSON.parse(json.stdout);
    const after = await duplicateGroups();
    expect(after).toBe(before - 10);
    expect(result).toMatchObject({ groups: 10, groupsPlanned: 10, groupsRemaining: after });

    const table = await cli('clean', '--database', database, '--key', 'device-phone', '--execute', '--max-groups', '5');
    expect(table.code, table.stderr).toBe(0);
    const left = await duplicateGroups();
    expect(table.stdout).toContain(`5 of 5 planned; ${left.toLocaleString('en-US')} groups remain (rerun to continue)`);

    const uncapped = await cli('clean', '--database', database, '--key', 'device-phone', '--execute', '--format', 'json');
    expect(JSON.parse(uncapped.stdout)).toMatchObject({ groups: left, groupsRemaining: null });
    expect(await duplicateGroups()).toBe(0);
  });
});
