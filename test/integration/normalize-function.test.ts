import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addConstraint } from '../../src/core/constraint/apply-add.js';
import { planConstraintAdd } from '../../src/core/constraint/plan-add.js';
import { constraintStatus } from '../../src/core/constraint/status.js';
import { planUpsert } from '../../src/core/constraint/upsert.js';
import { applyIndexAdd } from '../../src/core/key-index/apply-index.js';
import { planIndexAdd } from '../../src/core/key-index/plan-index.js';
import { UsageError } from '../../src/errors.js';
import { keyFor, runPrinted } from '../support/constraint-fixtures.js';
import { e164Sql } from '../support/normalized-sql.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/** The e164 expression as versions before the rule functions wrote it into the index: unqualified names and operators. */
function legacyE164(column: string): string {
  return e164Sql(column, '60')
    .replaceAll('pg_catalog.', '')
    .replace(/operator\((\S+?)\)/g, '$1');
}

describe.each(TEST_TARGETS.filter((t) => t.available))('normalised keys through rule functions on $label', (target) => {
  let test: TestDatabase;

  async function functions(): Promise<string[]> {
    return (
      await test.query<{ name: string }>(
        `select p.proname as name from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'lead_dedupe' order by 1`,
      )
    ).map((row) => row.name);
  }

  beforeAll(async () => {
    test = await target.open();
    await test.exec(`create table legacy_leads (id int primary key, device_id int, phone text, created_at timestamptz);
insert into legacy_leads select g, g, '012-345 ' || g, timestamptz '2026-01-01' from generate_series(1, 50) as g;
create table fresh_leads (id int primary key, device_id int, phone varchar(40), email text, created_at timestamptz);
insert into fresh_leads select g, g, '+60 12 ' || g, 'x' || g || '@y.z', timestamptz '2026-01-01' from generate_series(1, 50) as g;
`);
  });
  afterAll(async () => test?.close());

  it('an index an earlier version built on the inline expression is still recognised by status, constraint add and the upsert', async () => {
    await test.query(`create unique index legacy_key on legacy_leads (device_id, (${legacyE164('phone')}))`);
    const key = await keyFor(test.database, 'legacy_leads', 'device-phone', { normalize: { phone: 'e164' }, defaultCountry: 'MY' });
    const status = await constraintStatus(test.database, { table: key.table, keys: [key] });
    expect(status.keys[0]!.protectedBy).toEqual(['legacy_key']);
    expect(status.keys[0]!.elements).toEqual(['device_id', 'lead_dedupe.e164_60_v1(phone)']);
    expect((await addConstraint(test.database, { key })).outcome).toBe('exists');
    expect(await functions()).toEqual([]);

    // No function yet: the statement names the expression, which ON CONFLICT matches with the old index.
    const long = await planUpsert(test.database, { key, onDuplicate: 'skip', insertColumns: ['id', 'device_id', 'phone'] });
    expect(long.arbiters).toEqual(['legacy_key']);
    expect(long.sql).not.toContain('lead_dedupe.');
    expect(await runPrinted(test.database, long.sql, [901, 7, '+60 12 345 7'])).toEqual([]);

    // Once the function exists (index add of another key made it), the short target infers the same old index:
    // PostgreSQL inlines the function, and both sides become the same expression.
    const other = await keyFor(test.database, 'fresh_leads', 'device-phone', { normalize: { phone: 'e164' }, defaultCountry: 'MY' });
    await applyIndexAdd(test.database, await planIndexAdd(test.database, { key: other }), true);
    expect(await functions()).toEqual(['e164_60_v1']);
    const short = await planUpsert(test.database, { key, onDuplicate: 'skip', insertColumns: ['id', 'device_id', 'phone'] });
    expect(short.sql).toContain('on conflict ("device_id", lead_dedupe.e164_60_v1("phone")) do nothing');
    expect(await runPrinted(test.database, short.sql, [902, 8, '0060123458'])).toEqual([]);
    expect(await runPrinted(test.database, short.sql, [903, 951, '0123459'])).toHaveLength(1);
    const { rows } = await sql
      .raw<{ 'QUERY PLAN': unknown }>(`explain (format json) ${short.sql.replace('$1', '904').replace('$2', '9').replace('$3', `'1'`)}`)
      .execute(test.database.db);
    const plan = rows[0]!['QUERY PLAN'];
    expect(JSON.stringify(typeof plan === 'string' ? JSON.parse(plan) : plan)).toContain('"Conflict Arbiter Indexes":["legacy_key"]');
    expect(await test.query(`select count(*)::int as n from legacy_leads`)).toEqual([{ n: 51 }]);
  });

  it('a new constraint creates the function first (shown by the dry run), reuses an existing one, and never replaces a different one', async () => {
    const key = await keyFor(test.database, 'fresh_leads', 'email', { normalize: { email: 'lower' } });
    const plan = await planConstraintAdd(test.database, { key });
    const creates = plan.steps.filter((step) => step.purpose === 'create-function').flatMap((step) => step.statements.map((s) => s.sql));
    expect(creates).toEqual([
      'create schema if not exists "lead_dedupe"',
      'create function lead_dedupe.lower_v1("value" text) returns text\nlanguage sql immutable parallel safe\nreturn pg_catalog.lower(pg_catalog.btrim("value"))',
    ]);
    expect(await functions()).not.toContain('lower_v1');
    expect((await addConstraint(test.database, { key })).outcome).toBe('created');
    expect(await functions()).toContain('lower_v1');
    const again = await planIndexAdd(test.database, { key, name: 'fresh_email_lookup' });
    expect(again.existing?.name).toBe('fresh_leads_email_lower_key');

    // A function of the same name with another body (edited by hand, or planted): refused, nothing built.
    await test.query(`create function lead_dedupe.trim_v1(value text) returns text language sql immutable return lower(value)`);
    const trim = await keyFor(test.database, 'fresh_leads', 'email', { normalize: { email: 'trim' } });
    await expect(planConstraintAdd(test.database, { key: trim })).rejects.toThrow(UsageError);
    await expect(planIndexAdd(test.database, { key: trim })).rejects.toThrow(/lead_dedupe\.trim_v1 exists but is not lead-dedupe's definition/);
    const built = await test.query<{ n: number }>(`select count(*)::int as n from pg_indexes where indexname like '%email_trim%'`);
    expect(built).toEqual([{ n: 0 }]);
  });
});
