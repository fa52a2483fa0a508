import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyClean } from '../../src/clean/apply-clean.js';
import { resolveCleanOptions } from '../../src/cli/clean-flags.js';
import type { CleanOptions } from '../../src/clean/types.js';
import { planClean } from '../../src/clean/preview.js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { scan } from '../../src/scan/scan.js';
import { resolveKeys, type KeySettings } from '../../src/keys/resolve-key.js';
import { seed } from '../../src/seed/seed.js';
import { e164Oracle, sqlOracle } from '../support/oracle.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';
import { countRows, PLAIN_KEY_SETTINGS, tableChecksum } from '../support/table-facts.js';

const plain = PLAIN_KEY_SETTINGS;

/** Hand-written: the ids each keep policy removes, numbered as a plain window query would. */
const POLICY_ORDER = {
  oldest: 'created_at, id',
  newest: 'created_at desc, id desc',
  // non-empty columns counted by hand, then oldest
  'most-complete': `(1 + 1 + 1 + (phone is not null and btrim(phone) <> '')::int + (niche is not null and btrim(niche) <> '')::int
     + (name is not null and btrim(name) <> '')::int + (email is not null and btrim(email) <> '')::int + 1
     + (source is not null and btrim(source) <> '')::int + 1 + (updated_at is not null)::int) desc, created_at, id`,
} as const;

function victimsSql(order: string, where = 'phone is not null', partition = 'device_id, phone'): string {
  return `select id, keeper from (
    select id, first_value(id) over w as keeper, row_number() over w as rn, count(*) over (partition by ${partition}) as n
    from leads where ${where} window w as (partition by ${partition} order by ${order})) x
  where rn > 1 and n > 1`;
}

describe.each(TEST_TARGETS.filter((t) => t.available))('clean on $label', (target) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await target.open();
  });
  afterAll(async () => test?.close());
  beforeEach(async () => {
    await test.exec('drop table if exists lead_notes;\ndrop table if exists lead_tags;\n');
    await seed(test.database, { table: 'leads', rows: 2500, scenario: 'production', replace: true });
  });

  async function optionsFor(key: string, overrides: Partial<CleanOptions> = {}, settings: Partial<KeySettings> = {}): Promise<CleanOptions> {
    const table = await loadLeadTable(test.database.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' });
    const [resolved] = resolveKeys(table, [key], { ...plain, ...settings }).keys;
    return { ...resolveCleanOptions(resolved!, { mergeRule: [] }), ...overrides };
  }

  const count = (sql: string) => countRows(test, sql);
  const ids = async (sql: string) => (await test.query<{ id: string }>(sql)).map((row) => String(row.id)).sort();
  const checksum = (table: string) => tableChecksum(test, table);

  it('delete mode removes exactly the surplus rows under every keep policy, keeps the right row and re-points activities', async () => {
    for (const keep of ['oldest', 'newest', 'most-complete'] as const) {
      await seed(test.database, { table: 'leads', rows: 2500, scenario: 'production', replace: true });
      const oracle = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);
      const before = await count('select * from leads');
      const activitiesBefore = await count('select * from lead_activities');
      await test.exec(`create temporary table expected_victims as ${victimsSql(POLICY_ORDER[keep])};\n`);
      const expectedActivities = await test.query<{ id: string; lead_id: string }>(
        `select a.id::text as id, coalesce(v.keeper, a.lead_id)::text as lead_id from lead_activities a left join expected_victims v on v.id = a.lead_id order by a.id`,
      );
      const victims = await ids('select id from expected_victims');
      const movedActivities = await count('select * from lead_activities a join expected_victims v on v.id = a.lead_id');
      expect(victims.length).toBe(oracle.surplus);

      const result = await applyClean(test.database, await optionsFor('device-phone', { keep, mode: 'delete', batchSize: 7 }));

      expect(result.status).toBe('done');
      expect(result.rowsRemoved, keep).toBe(oracle.surplus);
      expect(result.groups).toBe(oracle.groups);
      expect(result.rowsMerged).toBe(0);
      expect(await count('select id from leads where id in (select id from expected_victims)'), keep).toBe(0);
      expect(await count('select * from leads')).toBe(before - oracle.surplus);
      const archived = await ids(`select row_id as id from lead_dedupe.lead_dedupe_removed where run_id = ${result.runId}`);
      expect(archived).toEqual(victims);
      expect(before).toBe((await count('select * from leads')) + archived.length);
      expect(await count('select * from lead_activities')).toBe(activitiesBefore);
      expect(await test.query(`select a.id::text as id, a.lead_id::text as lead_id from lead_activities a order by a.id`), keep).toEqual(expectedActivities);
      expect(result.childRows).toEqual([
        { table: 'public.lead_activities', constraint: 'lead_activities_lead_id_fkey', column: 'lead_id', rows: movedActivities },
      ]);
      await test.exec('drop table expected_victims;\n');
    }
  });

  it("merge fills the keeper's empty columns from its group, newest first, honouring merge rules", async () => {
    // blank some keepers' columns so there is something to fill
    await test.exec(
      `update leads set name = '  ', source = null where id in (select id from (${victimsSql('created_at, id').replace('rn > 1', 'rn = 1')}) k where k.id % 3 = 0);\n`,
    );
    await test.exec(`update leads set email = null where id in (select keeper from (${victimsSql('created_at, id')}) k where k.keeper % 2 = 0);\n`);
    const rules = { niche: 'oldest', name: 'longest', source: 'keeper' } as const;
    // The expected keeper rows, one correlated subquery per column (not the tool's array_agg).
    const donor = (column: string, order: string) => `coalesce((select d.${column} from leads d
        where d.device_id = k.device_id and d.phone = k.phone and d.id <> k.id and d.${column} is not null and btrim(d.${column}::text) <> ''
        order by ${order} limit 1), k.${column})`;
    const fill = (column: string, order: string) =>
      `case when k.${column} is null or btrim(k.${column}::text) = '' then ${donor(column, order)} else k.${column} end`;
    const expected = await test.query(`
      select k.id::text as id, k.device_id, k.phone, k.user_id,
             ${fill('niche', 'd.created_at, d.id')} as niche,
             ${fill('name', 'length(d.name) desc, d.created_at desc, d.id desc')} as name,
             ${fill('email', 'd.created_at desc, d.id desc')} as email,
             k.source,
             ${fill('status', 'd.created_at desc, d.id desc')} as status,
             ${fill('updated_at', 'd.created_at desc, d.id desc')}::text as updated_at,
             k.created_at::text as created_at
      from leads k where k.id in (select keeper from (${victimsSql('created_at, id')}) v)
      order by k.id`);
    const current = await test.query(`
      select k.id::text as id, k.device_id, k.phone, k.user_id, k.niche, k.name, k.email, k.source, k.status, k.updated_at::text as updated_at,
             k.created_at::text as created_at
      from leads k where k.id in (select keeper from (${victimsSql('created_at, id')}) v)
      order by k.id`);
    const changed = expected.filter((row, index) => JSON.stringify(row) !== JSON.stringify(current[index])).length;
    const oracle = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);

    const result = await applyClean(test.database, await optionsFor('device-phone', { mode: 'merge', mergeRules: rules, batchSize: 50 }));

    expect(result.rowsRemoved).toBe(oracle.surplus);
    expect(result.rowsMerged).toBe(changed);
    expect(result.rowsMerged).toBeGreaterThan(0);
    expect(
      await test.query(`select k.id::text as id, k.device_id, k.phone, k.user_id, k.niche, k.name, k.email, k.source, k.status,
      k.updated_at::text as updated_at, k.created_at::text as created_at
      from leads k where k.id in (${expected.map((row) => (row as { id: string }).id).join(',')}) order by k.id`),
    ).toEqual(expected);
    const keepersArchived = await count(`select * from lead_dedupe.lead_dedupe_keepers where run_id = ${result.runId}`);
    expect(keepersArchived).toBe(changed);
  });

  it('re-points RESTRICT and CASCADE children, and skips a group whose re-point would break a child unique index', async () => {
    await test.exec(`create table lead_notes (id serial primary key, lead_id bigint not null references leads (id) on delete restrict, body text);
insert into lead_notes (lead_id, body) select id, 'note ' || id from (${victimsSql('created_at, id')}) v where v.id % 4 = 0;
create table lead_tags (lead_id bigint not null references leads (id) on delete cascade, tag text not null, primary key (lead_id, tag));
insert into lead_tags (lead_id, tag) select id, 'vip' from leads where id in (select min(id) from leads where phone is not null group by device_id, phone having count(*) > 1 order by 1 limit 1)
  union all select max(id), 'vip' from leads where phone is not null group by device_id, phone having count(*) > 1 and min(id) = (select min(id) from leads where phone is not null group by device_id, phone having count(*) > 1 order by 1 limit 1);
insert into lead_tags (lead_id, tag) select id, 'tag-' || id from (${victimsSql('created_at, id')}) v where v.id % 5 = 0;
`);
    const conflictGroup = await test.query<{ device_id: number; phone: string; n: string }>(`select device_id, phone, count(*) as n from leads
      where id in (select lead_id from lead_tags where tag = 'vip') group by 1, 2`);
    expect(conflictGroup).toHaveLength(1);
    const { device_id: device, phone } = conflictGroup[0]!;
    const groupBefore = await test.query(`select * from leads where device_id = ${device} and phone = '${phone}' order by id`);
    const groupSize = groupBefore.length;
    const oracle = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);
    const notesBefore = await test.query(
      `select n.id, coalesce(v.keeper, n.lead_id)::text as lead_id from lead_notes n left join (${victimsSql('created_at, id')}) v on v.id = n.lead_id order by n.id`,
    );
    const tagsBefore = await count('select * from lead_tags');

    const result = await applyClean(test.database, await optionsFor('device-phone', { mode: 'delete', batchSize: 25 }));

    expect(result.skippedGroups).toBe(1);
    expect(result.skipped[0]!.reason).toContain('lead_tags_pkey');
    expect(result.rowsRemoved).toBe(oracle.surplus - (groupSize - 1));
    expect(await test.query(`select * from leads where device_id = ${device} and phone = '${phone}' order by id`)).toEqual(groupBefore);
    expect(await test.query('select id, lead_id::text as lead_id from lead_notes order by id')).toEqual(notesBefore);
    expect(await count('select * from lead_tags')).toBe(tagsBefore);
    const after = await scanKey('device-phone');
    expect({ groups: after.groups, surplus: after.surplus }).toEqual({ groups: 1, surplus: groupSize - 1 });
    expect(await count(`select * from lead_dedupe.lead_dedupe_skipped where run_id = ${result.runId}`)).toBe(1);
  });

  it('gives the same end state for batch sizes 1, 7 and larger than the group count', async () => {
    await seed(test.database, { table: 'leads', rows: 1200, scenario: 'production', replace: true });
    const oracle = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);
    const states: string[] = [];
    for (const batchSize of [1, 7, 100_000]) {
      await seed(test.database, { table: 'leads', rows: 1200, scenario: 'production', replace: true });
      const result = await applyClean(test.database, await optionsFor('device-phone', { batchSize }));
      expect(result.rowsRemoved, `batch size ${batchSize}`).toBe(oracle.surplus);
      expect(result.batches).toBe(Math.ceil(oracle.groups / batchSize));
      expect(result.batchesDone).toBe(result.batches);
      states.push(`${await checksum('leads')} ${await checksum('lead_activities')}`);
    }
    expect(new Set(states).size).toBe(1);
  });

  it('is idempotent, leaves scan at zero, and honours --max-groups', async () => {
    const oracle = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);
    const capped = await applyClean(test.database, await optionsFor('device-phone', { maxGroups: 10, batchSize: 4 }));
    expect(capped.groups).toBe(10);
    expect(capped.batches).toBe(3);
    const [{ n }] = (await test.query<{ n: string }>(`select coalesce(sum(n - 1), 0) as n from (select count(*) as n from leads where phone is not null
      group by device_id, phone having count(*) > 1 order by device_id, phone limit 10) g`)) as [{ n: string }];
    expect(capped.rowsRemoved).toBe(Number(n));
    const rest = await applyClean(test.database, await optionsFor('device-phone'));
    expect(capped.rowsRemoved + rest.rowsRemoved).toBe(oracle.surplus);
    const again = await applyClean(test.database, await optionsFor('device-phone'));
    expect({ groups: again.groups, removed: again.rowsRemoved, batches: again.batches }).toEqual({ groups: 0, removed: 0, batches: 0 });
    expect((await scanKey('device-phone')).surplus).toBe(0);
  });

  it('cleans by a normalised key and with NULLs equal, matching the oracles', async () => {
    const e164 = await e164Oracle(test, 'leads', ['device_id', 'phone'], 'phone', 'MY', true);
    const normalised = await applyClean(test.database, await optionsFor('device-phone', {}, { normalize: { phone: 'e164' }, defaultCountry: 'MY' }));
    expect(normalised.rowsRemoved).toBe(e164.surplus);
    await seed(test.database, { table: 'leads', rows: 2500, scenario: 'production', replace: true });
    const nulls = await sqlOracle(test, 'leads', ['device_id', 'phone'], false);
    const equal = await applyClean(test.database, await optionsFor('device-phone', {}, { nullsEqual: true }));
    expect(equal.rowsRemoved).toBe(nulls.surplus);
    expect(await count('select * from leads where phone is null')).toBe(
      Number((await test.query<{ n: string }>('select count(distinct device_id) as n from leads where phone is null'))[0]!.n),
    );
  });

  it('the dry run reports what --execute then does, and changes nothing', async () => {
    await test.exec(`create table lead_notes (id serial primary key, lead_id bigint not null references leads (id) on delete restrict, body text);
insert into lead_notes (lead_id, body) select id, 'n' from leads where id % 7 = 0;
`);
    const before = `${await checksum('leads')} ${await checksum('lead_activities')} ${await checksum('lead_notes')}`;
    const oracle = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);
    const options = await optionsFor('device-phone', { batchSize: 100, archiveSchema: 'dry_run_archive' });
    const plan = await planClean(test.database, options);
    expect(`${await checksum('leads')} ${await checksum('lead_activities')} ${await checksum('lead_notes')}`).toBe(before);
    expect(await count(`select * from pg_namespace where nspname = 'dry_run_archive'`)).toBe(0);
    expect(plan.groups).toBe(oracle.groups);
    expect(plan.rowsToRemove).toBe(oracle.surplus);
    expect(plan.batches).toBe(Math.ceil(oracle.groups / 100));
    const victims = victimsSql('created_at, id');
    expect(plan.childRows).toEqual([
      {
        table: 'public.lead_activities',
        constraint: 'lead_activities_lead_id_fkey',
        column: 'lead_id',
        rows: await count(`select * from lead_activities where lead_id in (select id from (${victims}) v)`),
      },
      {
        table: 'public.lead_notes',
        constraint: 'lead_notes_lead_id_fkey',
        column: 'lead_id',
        rows: await count(`select * from lead_notes where lead_id in (select id from (${victims}) v)`),
      },
    ]);
    const [largest] = await test.query<{ keeper: string; losers: string[] }>(`select (array_agg(id::text order by created_at, id))[1] as keeper,
      (array_agg(id::text order by created_at, id))[2:] as losers from leads where phone is not null group by device_id, phone order by count(*) desc, 1 limit 1`);
    expect(plan.sample[0]!.keeper).toBe(largest!.keeper);
    expect(plan.sample[0]!.losers).toEqual(largest!.losers);
    const result = await applyClean(test.database, options);
    expect({ removed: result.rowsRemoved, merged: result.rowsMerged, children: result.childRows }).toEqual({
      removed: plan.rowsToRemove,
      merged: plan.keepersToMerge,
      children: plan.childRows,
    });
  });

  async function scanKey(key: string) {
    const table = await loadLeadTable(test.database.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' });
    const resolved = resolveKeys(table, [key], plain);
    return (await scan(test.database, { table, keys: resolved.keys, top: 1 })).keys[0]!;
  }
});
