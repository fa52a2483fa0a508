import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addConstraint } from '../../src/core/constraint/apply-add.js';
import { constraintStatus } from '../../src/core/constraint/status.js';
import { planUpsert } from '../../src/core/constraint/upsert.js';
import { exportDetails } from '../../src/core/details.js';
import { applyIndexAdd } from '../../src/core/key-index/apply-index.js';
import { planIndexAdd } from '../../src/core/key-index/plan-index.js';
import { scan } from '../../src/core/scan.js';
import { resolveCleanOptions } from '../../src/cli/clean-flags.js';
import { planClean } from '../../src/core/clean/plan-clean.js';
import { diagnose } from '../../src/core/diagnose/diagnose.js';
import { DIAGNOSE_DEFAULTS } from '../../src/core/diagnose/diagnose-settings.js';
import { keyFor, runPrinted } from '../support/constraint-fixtures.js';
import { dropRole, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/**
 * Issue 26 item 2: look-alikes of the built-ins the tool calls, planted in
 * public by another role with argument types closer to a varchar or citext
 * column than pg_catalog's (text), record every call. Under an ordinary
 * search_path ("$user", public) PostgreSQL picks them; the tool's sessions
 * must never call them: not in scan, the details export, constraint add,
 * index add, nor in the index builds.
 */
const PLANTED = ['btrim', 'lower', 'translate', 'octet_length', 'length', 'md5'];

function plantSql(type: string): string {
  const one = (name: string, args: string, call: string) =>
    `create function public.${name}(${args}) returns ${name.endsWith('length') ? 'int' : 'text'} language sql as $$ insert into public.planted_calls values ('${name}(${type})'); select pg_catalog.${call} $$;\n`;
  return (
    one('btrim', type, 'btrim($1::text)') +
    one('lower', type, 'lower($1::text)') +
    one('translate', `${type}, text, text`, 'translate($1::text, $2, $3)') +
    one('octet_length', type, 'octet_length($1::text)') +
    one('length', type, 'length($1::text)') +
    one('md5', type, 'md5($1::text)') +
    `create function public.regexp_replace(${type}, text, text, text) returns text language sql as $$ insert into public.planted_calls values ('regexp_replace(${type})'); select pg_catalog.regexp_replace($1::text, $2, $3, $4) $$;\n`
  );
}

describe.each(TEST_TARGETS.filter((t) => t.available))('functions planted on the search_path, on $label', (target) => {
  let test: TestDatabase;
  const role = `ld_planter_${randomBytes(4).toString('hex')}`;
  const types = target.label === 'postgres' ? ['character varying', 'public.citext'] : ['character varying'];

  async function calls(): Promise<string[]> {
    return (await test.query<{ fn: string }>('select fn from public.planted_calls order by fn')).map((row) => row.fn);
  }

  beforeAll(async () => {
    test = await target.open();
    if (target.label === 'postgres') await test.exec('create extension if not exists citext;');
    await test.exec(`create table public.planted_calls (fn text);
create table planted_leads (id int primary key, device_id int, phone varchar(40), email ${target.label === 'postgres' ? 'citext' : 'varchar(80)'}, created_at timestamptz);
insert into planted_leads select g, g % 40, case when g % 3 = 0 then ' 012-345 ' || (g % 60) else '012345' || (g % 60) end, 'Lead' || (g % 90) || '@x.com ', timestamptz '2026-01-01' + g * interval '1 minute' from generate_series(1, 600) as g;
`);
    for (const type of types) await test.exec(plantSql(type));
    if (target.label === 'postgres') {
      await test.exec(`create role ${role};
grant insert on public.planted_calls to public;
`);
      for (const type of types)
        for (const name of PLANTED) await test.query(`alter function public.${name}(${name === 'translate' ? `${type}, text, text` : type}) owner to ${role}`);
    }
  });
  afterAll(async () => {
    await test?.close();
    if (target.label === 'postgres') await dropRole(role);
  });

  it('the plants work: an ordinary session with public on its path calls them', async () => {
    await test.query('select btrim(phone), lower(email) from planted_leads limit 1');
    expect(await calls()).toEqual(
      target.label === 'postgres' ? ['btrim(character varying)', 'lower(public.citext)'] : ['btrim(character varying)', 'lower(character varying)'],
    );
    await test.query('truncate public.planted_calls');
  });

  it('scan, details, clean dry run, diagnose, constraint add, index add, status and upsert never call them, and count what a hand-written oracle counts', async () => {
    // The oracle names pg_catalog's functions itself, so it does not call the plants either.
    const [oracle] = await test.query<{ groups: string; surplus: string }>(`
      select count(*)::text as groups, (sum(n) - count(*))::text as surplus from (
        select count(*) as n from planted_leads where pg_catalog.btrim(phone::text) is not null and device_id is not null
        group by device_id, pg_catalog.btrim(phone::text) having count(*) > 1) as g`);
    const trim = await keyFor(test.database, 'planted_leads', 'device-phone', { normalize: { phone: 'trim' } });
    const digits = await keyFor(test.database, 'planted_leads', 'device-phone', { normalize: { phone: 'digits' } });
    const e164 = await keyFor(test.database, 'planted_leads', 'device-phone', { normalize: { phone: 'e164' }, defaultCountry: 'MY' });
    const email = await keyFor(test.database, 'planted_leads', 'email', { normalize: { email: 'lower' } });
    const report = await scan(test.database, { table: trim.table, keys: [trim, digits, e164, email], top: 3 });
    expect(report.keys[0]).toMatchObject({ groups: Number(oracle!.groups), surplus: Number(oracle!.surplus) });
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
    await exportDetails(test.database, [trim, e164, email], sink);
    for (const key of [trim, e164, email]) {
      const plan = await planClean(test.database, { ...resolveCleanOptions(key, { mergeRule: [] }), archiveSchema: 'planted_archive' });
      if (key === trim) expect(plan.rowsToRemove).toBe(Number(oracle!.surplus));
    }
    await diagnose(test.database, { key: e164, settings: DIAGNOSE_DEFAULTS, columnMap: {} });
    expect(await calls()).toEqual([]);

    // digits and e164 differ by duplicates here: build only where none remain (the email key has its own).
    await test.query('delete from planted_leads where id > 40');
    const built = await addConstraint(test.database, { key: e164 });
    expect(built.outcome).toBe('created');
    const index = await applyIndexAdd(test.database, await planIndexAdd(test.database, { key: digits }), true);
    expect(index.outcome).toBe('created');
    await constraintStatus(test.database, { table: e164.table, keys: [e164, digits, email] });
    const upsert = await planUpsert(test.database, { key: e164, onDuplicate: 'skip', insertColumns: ['id', 'device_id', 'phone'] });
    expect(await runPrinted(test.database, upsert.sql, [9001, 1, '+60 12 345 5'])).toHaveLength(1);
    expect(await runPrinted(test.database, upsert.sql, [9002, 1, '0123455'])).toEqual([]);
    expect(await calls()).toEqual([]);

    // Writes by an ordinary session (public on its path) maintain the indexes without calling the plants either:
    // the index expressions and the rule functions' bodies hold pg_catalog's functions by OID.
    await test.query(`insert into planted_leads (id, device_id, phone) values (9003, 2, ' 0199 ')`);
    expect(await calls()).toEqual([]);
  });
});
