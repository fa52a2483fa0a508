import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addConstraint } from '../../src/core/constraint/apply-add.js';
import { checkConstraintAdd } from '../../src/core/constraint/check-add.js';
import { dropConstraint } from '../../src/core/constraint/drop.js';
import { planConstraintAdd } from '../../src/core/constraint/plan-add.js';
import { constraintStatus } from '../../src/core/constraint/status.js';
import { planUpsert } from '../../src/core/constraint/upsert.js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { parseDatabaseTarget } from '../../src/db/database-target.js';
import { openDatabase } from '../../src/db/with-database.js';
import { CatalogError, DuplicatesFoundError, UsageError } from '../../src/errors.js';
import { PermissionError } from '../../src/clean/errors.js';
import { resolveKeys } from '../../src/keys/resolve-key.js';
import { seed } from '../../src/seed/seed.js';
import {
  dedupeDeviceE164,
  dedupeDevicePhone,
  e164Settings,
  keyFor,
  plainSettings,
  runPrinted,
  uniqueConstraintsOf,
  uniqueIndexesOf,
} from '../support/constraint-fixtures.js';
import { e164Oracle, sqlOracle } from '../support/oracle.js';
import { dropRole, SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

describe.each(TEST_TARGETS.filter((t) => t.available))('constraint on $label', (target) => {
  let test: TestDatabase;
  const seeded = (table: string, rows = 2000) => seed(test.database, { table, rows, scenario: 'production', replace: true });

  beforeAll(async () => {
    test = await target.open();
  });
  afterAll(async () => test?.close());

  it('refuses while duplicates remain: exit 3 with the count and the clean command, nothing built', async () => {
    await seeded('leads');
    const oracle = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);
    expect(oracle.groups).toBeGreaterThan(0);
    const key = await keyFor(test.database, 'leads', 'device-phone');
    // the dry run (checkConstraintAdd) refuses as the build does, with the same figures, having built nothing
    const plan = await planConstraintAdd(test.database, { key });
    for (const attempt of [() => checkConstraintAdd(test.database, plan), () => addConstraint(test.database, { key })]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DuplicatesFoundError);
      expect(error).toMatchObject({
        fields: { table: 'public.leads', key: 'device-phone', index: 'leads_device_id_phone_key', groups: oracle.groups, surplus: oracle.surplus },
        exitCode: 3,
        commands: ['lead-dedupe clean --key device-phone'],
      });
      expect((error as Error).message).toBe(
        `${oracle.groups} duplicate group(s) (${oracle.surplus} surplus row(s)) under key device-phone on public.leads; ` +
          'a unique index cannot be built until they are removed; review the plan with the clean dry run below, then run it with --execute',
      );
      expect((await uniqueIndexesOf(test, 'leads')).map((i) => i.name)).toEqual(['leads_pkey']);
    }
  });

  it('after a dedupe: builds the constraint, status shows it protecting device-phone, a second add is a no-op', async () => {
    await seeded('leads');
    await dedupeDevicePhone(test, 'leads');
    const key = await keyFor(test.database, 'leads', 'device-phone');
    // the dry run first: the rows it counted (oracle: count(*)), the statements the build runs, each with its lock; nothing built
    const plan = await planConstraintAdd(test.database, { key });
    const [{ n: rows }] = (await test.query<{ n: number }>('select count(*)::int as n from leads')) as [{ n: number }];
    const check = await checkConstraintAdd(test.database, plan);
    expect(check).toMatchObject({ outcome: 'planned', rowsChecked: rows, name: 'leads_device_id_phone_key' });
    expect(check.steps.map((step) => [step.purpose, step.sql])).toEqual(plan.steps.map((step) => [step.purpose, step.statements.map((st) => st.sql)]));
    expect(check.steps[0]!.lock).toMatch(
      target.label === 'postgres' ? /^SHARE UPDATE EXCLUSIVE \(CONCURRENTLY\): writes keep flowing/ : /^SHARE while it builds: writes wait/,
    );
    expect(check.steps[1]!.lock).toMatch(/^ACCESS EXCLUSIVE for a moment .*lock_timeout 5s/);
    expect((await uniqueIndexesOf(test, 'leads')).map((i) => i.name)).toEqual(['leads_pkey']);
    const result = await addConstraint(test.database, { key });
    expect(result).toMatchObject({
      outcome: 'created',
      kind: 'constraint',
      name: 'leads_device_id_phone_key',
      concurrently: target.label === 'postgres',
      droppedInvalid: null,
    });
    expect(await uniqueConstraintsOf(test, 'leads')).toEqual([{ name: 'leads_device_id_phone_key', def: 'UNIQUE (device_id, phone)' }]);
    expect(await uniqueIndexesOf(test, 'leads')).toEqual([
      { name: 'leads_device_id_phone_key', valid: true, def: 'CREATE UNIQUE INDEX leads_device_id_phone_key ON public.leads USING btree (device_id, phone)' },
      { name: 'leads_pkey', valid: true, def: 'CREATE UNIQUE INDEX leads_pkey ON public.leads USING btree (id)' },
    ]);

    const table = await loadLeadTable(test.database.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' });
    const status = await constraintStatus(test.database, { table, keys: resolveKeys(table, [], plainSettings).keys });
    expect(status.indexes.map((i) => [i.name, i.kind, i.elements, i.valid, i.nullsNotDistinct])).toEqual([
      ['leads_device_id_phone_key', 'unique constraint', ['device_id', 'phone'], true, false],
      ['leads_pkey', 'primary key', ['id'], true, false],
    ]);
    expect(Object.fromEntries(status.keys.map((k) => [k.key.name, k.protectedBy]))).toEqual({
      'device-phone': ['leads_device_id_phone_key'],
      'device-phone-niche': [],
      'device-user-phone-niche': [],
      'user-phone': [],
      phone: [],
    });

    const again = await addConstraint(test.database, { key });
    expect(again.outcome).toBe('exists');
    expect(again.existing?.name).toBe('leads_device_id_phone_key');
    expect(again.buildMs).toBeNull();
    // the constraint is real: a hand-written duplicate is rejected
    await expect(
      test.query(`insert into leads (device_id, user_id, phone) select device_id, user_id, phone from leads where phone is not null limit 1`),
    ).rejects.toMatchObject({ code: '23505' });
  });

  it('the upsert statements work against the built constraint: skip returns a row once, update tells inserted from updated', async () => {
    await seeded('upsert_leads', 500);
    await dedupeDevicePhone(test, 'upsert_leads');
    const key = await keyFor(test.database, 'upsert_leads', 'device-phone');
    await addConstraint(test.database, { key });
    const columns = ['device_id', 'user_id', 'phone', 'niche', 'name'];
    const skip = await planUpsert(test.database, { key, onDuplicate: 'skip', insertColumns: columns });
    expect(skip.arbiters).toEqual(['upsert_leads_device_id_phone_key']);
    const values = [900001, 7, '60123000001', 'Property', 'first'];
    const [inserted] = await runPrinted<{ id: unknown; outcome: string }>(test.database, skip.sql, values);
    expect(inserted).toMatchObject({ outcome: 'inserted' });
    expect(await runPrinted(test.database, skip.sql, values)).toEqual([{ id: inserted!.id, outcome: 'existed' }]);

    const update = await planUpsert(test.database, { key, onDuplicate: 'overwrite', insertColumns: columns });
    expect(update.updateColumns).toEqual(['user_id', 'niche', 'name']);
    const first = await runPrinted<{ id: unknown; outcome: string }>(test.database, update.sql, [900002, 7, '60123000002', 'Property', 'first']);
    const second = await runPrinted<{ id: unknown; outcome: string }>(test.database, update.sql, [900002, 8, '60123000002', 'Finance', 'second']);
    expect(first.map((r) => r.outcome)).toEqual(['inserted']);
    expect(second.map((r) => r.outcome)).toEqual(['updated']);
    expect(String(second[0]!.id)).toBe(String(first[0]!.id));
    expect(await test.query(`select user_id, niche, name from upsert_leads where device_id in (900001, 900002) order by device_id`)).toEqual([
      { user_id: 7, niche: 'Property', name: 'first' },
      { user_id: 8, niche: 'Finance', name: 'second' },
    ]);
  });

  it('a normalised e164 key becomes a unique expression index on scan’s expression, and its upsert skips a differently written phone', async () => {
    await seeded('e164_leads');
    const key = await keyFor(test.database, 'e164_leads', 'device-phone', e164Settings);
    const oracle = await e164Oracle(test, 'e164_leads', ['device_id', 'phone'], 'phone', 'MY', true);
    await expect(addConstraint(test.database, { key })).rejects.toMatchObject({ fields: { groups: oracle.groups, surplus: oracle.surplus } });
    await dedupeDeviceE164(test, 'e164_leads');
    const result = await addConstraint(test.database, { key });
    expect(result).toMatchObject({ outcome: 'created', kind: 'expression-index', name: 'e164_leads_device_id_phone_e164_key', attachMs: null });
    expect(await uniqueConstraintsOf(test, 'e164_leads')).toEqual([]);
    const index = (await uniqueIndexesOf(test, 'e164_leads')).find((i) => i.name === 'e164_leads_device_id_phone_e164_key')!;
    expect(index.valid).toBe(true);
    expect(index.def).toMatch(
      /^CREATE UNIQUE INDEX e164_leads_device_id_phone_e164_key ON public\.e164_leads USING btree \(device_id, lead_dedupe\.e164_60_v1\(/,
    );

    const table = key.table;
    const plain = await keyFor(test.database, 'e164_leads', 'device-phone');
    const status = await constraintStatus(test.database, { table, keys: [key, plain] });
    expect(status.keys.map((k) => k.protectedBy)).toEqual([['e164_leads_device_id_phone_e164_key'], []]);
    expect((await addConstraint(test.database, { key })).outcome).toBe('exists');

    const upsert = await planUpsert(test.database, { key, onDuplicate: 'skip', insertColumns: ['device_id', 'user_id', 'phone'] });
    expect(upsert.sql).toContain('on conflict ("device_id", lead_dedupe.e164_60_v1("phone")) do update');
    const outcome = async (values: unknown[]) => (await runPrinted<{ outcome: string }>(test.database, upsert.sql, values)).map((row) => row.outcome);
    expect(await outcome([900001, 1, '012-345 6789'])).toEqual(['inserted']);
    expect(await outcome([900001, 1, '+60 12 345 6789'])).toEqual(['existed']);
    expect(await outcome([900001, 1, '0060123456789'])).toEqual(['existed']);
    expect(await test.query(`select phone from e164_leads where device_id = 900001`)).toEqual([{ phone: '012-345 6789' }]);
  });

  it('--nulls-equal builds NULLS NOT DISTINCT, and the pre-flight counts NULL keys exactly as that index would', async () => {
    await seeded('null_leads');
    await dedupeDevicePhone(test, 'null_leads');
    const key = await keyFor(test.database, 'null_leads', 'device-phone', { nullsEqual: true });
    const oracle = await sqlOracle(test, 'null_leads', ['device_id', 'phone'], false);
    expect(oracle.groups).toBeGreaterThan(0); // only NULL-phone groups are left
    await expect(addConstraint(test.database, { key })).rejects.toMatchObject({ fields: { groups: oracle.groups } });
    await dedupeDevicePhone(test, 'null_leads', true);
    expect((await addConstraint(test.database, { key })).outcome).toBe('created');
    expect(await uniqueConstraintsOf(test, 'null_leads')).toEqual([
      { name: 'null_leads_device_id_phone_key', def: 'UNIQUE NULLS NOT DISTINCT (device_id, phone)' },
    ]);
    await test.query(`insert into null_leads (device_id, user_id, phone) values (900001, 1, null)`);
    await expect(test.query(`insert into null_leads (device_id, user_id, phone) values (900001, 1, null)`)).rejects.toMatchObject({ code: '23505' });
    const distinct = await keyFor(test.database, 'null_leads', 'device-phone');
    const status = await constraintStatus(test.database, { table: key.table, keys: [key, distinct] });
    // a NULLS NOT DISTINCT index is stricter than a NULLs-distinct key: not equivalent
    expect(status.keys.map((k) => k.protectedBy)).toEqual([['null_leads_device_id_phone_key'], []]);
  });

  it('a name owned by another object: exit 2, nothing built', async () => {
    await seeded('name_leads', 300);
    await dedupeDevicePhone(test, 'name_leads');
    await test.query('create table name_leads_device_id_phone_key (x int)');
    await test.query('create index name_leads_niche_idx on name_leads (niche)');
    const key = await keyFor(test.database, 'name_leads', 'device-phone');
    await expect(addConstraint(test.database, { key })).rejects.toThrow(
      new UsageError('the name "name_leads_device_id_phone_key" already belongs to a table in schema public; choose another with --name'),
    );
    await expect(addConstraint(test.database, { key, name: 'name_leads_niche_idx' })).rejects.toThrow(
      /already belongs to an index on public\.name_leads that does not enforce this key/,
    );
    await expect(addConstraint(test.database, { key, name: 'name_leads_pkey' })).rejects.toThrow(UsageError);
    expect((await uniqueIndexesOf(test, 'name_leads')).map((i) => i.name)).toEqual(['name_leads_pkey']);
    expect((await addConstraint(test.database, { key, name: 'my_key' })).name).toBe('my_key');
  });

  it('an invalid index left by an earlier build is detected, dropped and rebuilt', async () => {
    await seeded('invalid_leads', 300);
    await dedupeDevicePhone(test, 'invalid_leads');
    // what an interrupted CREATE INDEX CONCURRENTLY leaves: the index, marked invalid
    await test.query('create unique index invalid_leads_device_id_phone_key on invalid_leads (device_id, phone)');
    await test.query(`update pg_index set indisvalid = false where indexrelid = 'invalid_leads_device_id_phone_key'::regclass`);
    const key = await keyFor(test.database, 'invalid_leads', 'device-phone');
    const table = key.table;
    const before = await constraintStatus(test.database, { table, keys: [key] });
    expect(before.indexes.find((i) => i.name === 'invalid_leads_device_id_phone_key')?.valid).toBe(false);
    expect(before.keys[0]!.protectedBy).toEqual([]);
    const result = await addConstraint(test.database, { key });
    expect(result).toMatchObject({ outcome: 'created', droppedInvalid: 'invalid_leads_device_id_phone_key' });
    expect(await uniqueIndexesOf(test, 'invalid_leads')).toEqual([
      {
        name: 'invalid_leads_device_id_phone_key',
        valid: true,
        def: 'CREATE UNIQUE INDEX invalid_leads_device_id_phone_key ON public.invalid_leads USING btree (device_id, phone)',
      },
      { name: 'invalid_leads_pkey', valid: true, def: 'CREATE UNIQUE INDEX invalid_leads_pkey ON public.invalid_leads USING btree (id)' },
    ]);
  });

  it('a valid index whose ALTER did not happen is attached on the next run, not rebuilt', async () => {
    await seeded('resume_leads', 300);
    await dedupeDevicePhone(test, 'resume_leads');
    await test.query('create unique index resume_leads_device_id_phone_key on resume_leads (device_id, phone)');
    const key = await keyFor(test.database, 'resume_leads', 'device-phone');
    const result = await addConstraint(test.database, { key });
    expect(result).toMatchObject({ outcome: 'attached', buildMs: null });
    expect(await uniqueConstraintsOf(test, 'resume_leads')).toEqual([{ name: 'resume_leads_device_id_phone_key', def: 'UNIQUE (device_id, phone)' }]);
  });

  it('--print-sql plans both statements and changes nothing', async () => {
    await seeded('print_leads', 300);
    const key = await keyFor(test.database, 'print_leads', 'device-phone');
    const plan = await planConstraintAdd(test.database, { key, lockTimeoutMs: 2000 });
    const concurrently = target.label === 'postgres' ? ' concurrently' : '';
    expect(plan.steps.map((s) => [s.purpose, s.transaction, s.statements.map((x) => x.sql)])).toEqual([
      ['build', false, [`create unique index${concurrently} "print_leads_device_id_phone_key" on "public"."print_leads" ("device_id", "phone")`]],
      [
        'attach',
        true,
        [
          "set local lock_timeout = '2s'",
          'alter table "public"."print_leads" add constraint "print_leads_device_id_phone_key" unique using index "print_leads_device_id_phone_key"',
        ],
      ],
    ]);
    expect((await uniqueIndexesOf(test, 'print_leads')).map((i) => i.name)).toEqual(['print_leads_pkey']);
  });

  it('drop: dry run by default, then drops a constraint or an expression index; refuses the primary key and unknown names', async () => {
    await seeded('drop_leads', 300);
    await dedupeDeviceE164(test, 'drop_leads');
    await dedupeDevicePhone(test, 'drop_leads');
    const plain = await keyFor(test.database, 'drop_leads', 'device-phone');
    const e164 = await keyFor(test.database, 'drop_leads', 'device-phone', e164Settings);
    await addConstraint(test.database, { key: plain });
    await addConstraint(test.database, { key: e164 });
    const table = plain.table;
    const dry = await dropConstraint(test.database, { table, name: 'drop_leads_device_id_phone_key', execute: false });
    expect(dry).toMatchObject({
      executed: false,
      plan: {
        action: 'drop constraint',
        sql: ["set local lock_timeout = '5s'", 'alter table "public"."drop_leads" drop constraint "drop_leads_device_id_phone_key"'],
      },
    });
    expect((await uniqueIndexesOf(test, 'drop_leads')).map((i) => i.name)).toEqual([
      'drop_leads_device_id_phone_e164_key',
      'drop_leads_device_id_phone_key',
      'drop_leads_pkey',
    ]);
    await dropConstraint(test.database, { table, name: 'drop_leads_device_id_phone_key', execute: true });
    const concurrently = target.label === 'postgres' ? ' concurrently' : '';
    const index = await dropConstraint(test.database, { table, name: 'drop_leads_device_id_phone_e164_key', execute: true });
    expect(index.plan.sql).toEqual([`drop index${concurrently} if exists "public"."drop_leads_device_id_phone_e164_key"`]);
    expect((await uniqueIndexesOf(test, 'drop_leads')).map((i) => i.name)).toEqual(['drop_leads_pkey']);
    await expect(dropConstraint(test.database, { table, name: 'drop_leads_pkey', execute: true })).rejects.toThrow(/is the primary key/);
    await expect(dropConstraint(test.database, { table, name: 'nope', execute: true })).rejects.toThrow(CatalogError);
    await expect(dropConstraint(test.database, { table, name: 'drop_leads_activities', execute: true })).rejects.toThrow(/is a table, not a unique constraint/);
  });

  it('bad keys: unknown key exit 2, missing column exit 2', async () => {
    await seeded('leads', 300);
    await expect(keyFor(test.database, 'leads', 'no-such-key')).rejects.toThrow(UsageError);
    await expect(keyFor(test.database, 'leads', 'device_id,nope')).rejects.toThrow(CatalogError);
  });
});

describe.skipIf(!SERVER_URL)('constraint add as a user without rights (server)', () => {
  let test: TestDatabase;
  const role = `ld_norights_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    test = await TEST_TARGETS.find((t) => t.label === 'postgres')!.open();
    await seed(test.database, { table: 'leads', rows: 300, scenario: 'production', replace: false });
    await dedupeDevicePhone(test, 'leads');
    await test.query(`create role ${role} login`);
  });
  afterAll(async () => {
    await test?.close();
    await dropRole(role);
  });

  async function addAsRole(): Promise<unknown> {
    const url = new URL(test.url!);
    url.username = role;
    const database = await openDatabase(parseDatabaseTarget(url.toString()));
    try {
      const key = await keyFor(database, 'leads', 'device-phone');
      return await addConstraint(database, { key }).catch((error: unknown) => error);
    } finally {
      await database.db.destroy();
    }
  }

  // The plan of a plain key reads only the catalog (no probe on a temporary copy of the table, which raised 42501 here):
  // the owner check refuses, as the CLI did before planning and as it does with SELECT only.
  it('no privileges: refused before the build (not the owner: exit 2), nothing built', async () => {
    const error = await addAsRole();
    expect(error).toBeInstanceOf(PermissionError);
    expect((error as PermissionError).exitCode).toBe(2);
    expect((await uniqueIndexesOf(test, 'leads')).map((i) => i.name)).toEqual(['leads_pkey']);
  });

  it('SELECT only: refused before the build (not the owner: exit 2, naming the owner), no index built', async () => {
    await test.query(`grant select on leads to ${role}`);
    const error = await addAsRole();
    expect(error).toBeInstanceOf(PermissionError);
    expect((error as PermissionError).exitCode).toBe(2);
    // the owner is the server's test user, a superuser here: only a change of owner is suggested, never membership in its role
    const [owner] = await test.query<{ owner: string; superuser: boolean }>(
      `select r.rolname as owner, r.rolsuper as superuser from pg_class c join pg_roles r on r.oid = c.relowner where c.oid = 'leads'::regclass`,
    );
    expect((error as Error).message).toBe(
      `database user ${role} does not own public.leads: constraint add builds an index on it, which needs its owner (${owner!.owner}) or a member of that role; ` +
        `run it as ${owner!.owner}, or as ${owner!.owner}: ${owner!.superuser ? `ALTER TABLE public.leads OWNER TO <a role ${role} is a member of>` : `GRANT ${owner!.owner} TO ${role}`}; nothing was changed`,
    );
    expect((await uniqueIndexesOf(test, 'leads')).map((i) => i.name)).toEqual(['leads_pkey']);
  });
});
