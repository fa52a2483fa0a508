import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { seed } from '../../src/seed/seed.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/**
 * `seed --replace` drops only tables seed itself created (they carry its
 * marker); a user's own `leads` or `lead_activities` is never dropped.
 */
describe.each(TEST_TARGETS.filter((t) => t.available))('seed on $label', (target) => {
  let test: TestDatabase;
  const count = async (table: string) => Number((await test.query<{ n: string }>(`select count(*) as n from ${table}`))[0]!.n);
  const tables = async () =>
    (await test.query<{ t: string }>(`select relname as t from pg_class where relname in ('leads', 'lead_activities') and relkind = 'r' order by 1`)).map(
      (r) => r.t,
    );

  beforeAll(async () => {
    test = await target.open();
  });
  afterAll(async () => test?.close());
  beforeEach(async () => {
    await test.exec('drop table if exists lead_activities;\ndrop table if exists leads;\n');
  });

  it("a user's own leads table survives seed and seed --replace; the refusal does not suggest --replace", async () => {
    await test.exec(`create table leads (id int primary key, note text);
insert into leads values (1, 'production data');
`);
    await expect(seed(test.database, { table: 'leads', rows: 200, scenario: 'production', replace: true })).rejects.toThrow(
      new UsageError(
        'seed --replace drops only tables seed created: public.leads was not created by lead-dedupe seed (it lacks its marker), so it is left alone; pick another --table',
      ),
    );
    await expect(seed(test.database, { table: 'leads', rows: 200, scenario: 'production', replace: false })).rejects.toThrow(
      new UsageError('table public.leads exists and was not created by lead-dedupe seed; it is left alone; pick another --table'),
    );
    expect(await test.query('select id, note from leads')).toEqual([{ id: 1, note: 'production data' }]);
    expect(await tables()).toEqual(['leads']);
  });

  it("a user's own lead_activities (seed's child table) survives too, with or without leads beside it", async () => {
    await test.exec(`create table lead_activities (id int primary key, what text);
insert into lead_activities values (7, 'keep me');
`);
    for (const replace of [false, true]) {
      await expect(seed(test.database, { table: 'leads', rows: 200, scenario: 'production', replace })).rejects.toThrow(
        /public\.lead_activities (exists and )?was not created by lead-dedupe seed/,
      );
    }
    expect(await test.query('select id, what from lead_activities')).toEqual([{ id: 7, what: 'keep me' }]);
    expect(await tables()).toEqual(['lead_activities']);
  });

  it('tables seed created are replaced with --replace, and without it the refusal names --replace', async () => {
    await seed(test.database, { table: 'leads', rows: 300, scenario: 'production', replace: false });
    await expect(seed(test.database, { table: 'leads', rows: 200, scenario: 'production', replace: false })).rejects.toThrow(
      new UsageError('table public.leads exists (created by lead-dedupe seed); pass --replace to drop and recreate it'),
    );
    expect(await count('leads')).toBe(300);
    await seed(test.database, { table: 'leads', rows: 200, scenario: 'production', replace: true });
    expect(await count('leads')).toBe(200);
    // the marker is a comment the catalog keeps, on both tables
    expect(
      await test.query(
        `select relname as t, obj_description(oid, 'pg_class') as marker from pg_class where relname in ('leads', 'lead_activities') and relkind = 'r' order by 1`,
      ),
    ).toEqual([
      { t: 'lead_activities', marker: 'created by lead-dedupe seed' },
      { t: 'leads', marker: 'created by lead-dedupe seed' },
    ]);
  });
});
