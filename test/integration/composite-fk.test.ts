import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyClean } from '../../src/clean/apply-clean.js';
import { planClean } from '../../src/clean/preview.js';
import { resolveCleanOptions } from '../../src/cli/clean-flags.js';
import type { CleanOptions } from '../../src/clean/types.js';
import { restoreRun } from '../../src/clean/restore/restore.js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { resolveKeys } from '../../src/keys/resolve-key.js';
import { seed } from '../../src/seed/seed.js';
import { sqlOracle } from '../support/oracle.js';
import { PLAIN_KEY_SETTINGS } from '../support/table-facts.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/**
 * A child whose foreign key is composite, (device_id, lead_id) → leads
 * (device_id, id): the shape Citus requires between co-located tables, here
 * on a single server. Under device-phone the keeper shares device_id, so
 * only lead_id moves; under user-phone a group spans devices, so a moved row
 * takes the keeper's device_id too.
 */
describe.each(TEST_TARGETS.filter((t) => t.available))('composite foreign keys on $label', (target) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await target.open();
  });
  afterAll(async () => test?.close());
  beforeEach(async () => {
    await test.exec('drop table if exists device_activities;\n');
    await seed(test.database, { table: 'leads', rows: 2000, scenario: 'production', replace: true });
    await test.exec(`alter table leads add constraint leads_device_id_id_key unique (device_id, id);
create table device_activities (
  id serial primary key,
  device_id integer,
  lead_id bigint not null,
  body text,
  foreign key (device_id, lead_id) references leads (device_id, id) on delete cascade
);
create index on device_activities (device_id, lead_id);
insert into device_activities (device_id, lead_id, body) select device_id, id, 'call ' || id from leads where id % 2 = 0;
insert into device_activities (device_id, lead_id, body) select device_id, id, 'visit ' || id from leads where id % 3 = 0;
-- a NULL part: the key references nothing (MATCH SIMPLE), so clean leaves the row as it is
insert into device_activities (device_id, lead_id, body) select null, id, 'orphan ' || id from leads where id % 7 = 0;
`);
  });

  async function options(preset: string, overrides: Partial<CleanOptions> = {}): Promise<CleanOptions> {
    const table = await loadLeadTable(test.database.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' });
    const [key] = resolveKeys(table, [preset], PLAIN_KEY_SETTINGS).keys;
    return { ...resolveCleanOptions(key!, { mergeRule: [] }), batchSize: 40, ...overrides };
  }

  const checksum = async (table: string) =>
    (await test.query<{ md5: string }>(`select md5(string_agg(t::text, ',' order by id)) as md5 from ${table} t`))[0]!.md5;
  const state = async () => ({ leads: await checksum('leads'), activities: await checksum('device_activities') });

  /** Every lead's keeper under a key, by hand: oldest created_at first, then the lowest id; rows with a NULL key column stay alone. */
  async function expectedKeepers(columns: string[]): Promise<void> {
    await test.exec(`drop table if exists expected_keepers;
create table expected_keepers as
select id, first_value(id) over w as keeper, first_value(device_id) over w as keeper_device
from leads where ${columns.map((c) => `${c} is not null`).join(' and ')}
window w as (partition by ${columns.join(', ')} order by created_at asc nulls last, id asc);`);
  }

  /** Where each activity must end up: a row referencing a removed lead with a full key moves to the keeper, with its device. */
  const expectedActivities = `select a.id, case when e.keeper <> a.lead_id and a.device_id is not null then e.keeper_device else a.device_id end as device_id,
       case when e.keeper <> a.lead_id and a.device_id is not null then e.keeper else a.lead_id end as lead_id, a.body
from device_activities a left join expected_keepers e on e.id = a.lead_id order by a.id`;

  it.each([
    ['device-phone', ['device_id', 'phone']],
    ['user-phone', ['user_id', 'phone']],
  ])('%s: removes exactly the surplus, moves every activity to the keeper, and restore puts both tables back', async (preset, columns) => {
    const before = await state();
    const oracle = await sqlOracle(test, 'leads', columns, true);
    expect(oracle.surplus).toBeGreaterThan(0);
    await expectedKeepers(columns);
    const expected = await test.query(expectedActivities);
    const moving = await test.query<{ n: string; devices: string }>(
      `select count(*) as n, count(*) filter (where a.device_id <> e.keeper_device) as devices
       from device_activities a join expected_keepers e on e.id = a.lead_id where e.keeper <> a.lead_id and a.device_id is not null`,
    );
    if (preset === 'device-phone') expect(Number(moving[0]!.devices)).toBe(0);
    else expect(Number(moving[0]!.devices)).toBeGreaterThan(0); // groups span devices: moved rows change device_id too

    const run = await applyClean(test.database, await options(preset));
    expect(run.status).toBe('done');
    expect(run.rowsRemoved).toBe(oracle.surplus);
    expect(run.childRows.find((c) => c.table === 'public.device_activities')?.rows).toBe(Number(moving[0]!.n));
    expect(await test.query('select id, device_id, lead_id, body from device_activities order by id')).toEqual(expected);
    expect(await sqlOracle(test, 'leads', columns, true)).toMatchObject({ surplus: 0 });
    // every activity with a full key still references a lead (the foreign key holds; none was cascaded away)
    expect(Number((await test.query<{ n: string }>('select count(*) as n from device_activities'))[0]!.n)).toBe(expected.length);

    const restored = await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true });
    expect(restored.rowsReinserted).toBe(oracle.surplus);
    expect(restored.childRows.find((c) => c.table === 'public.device_activities')?.movedBack).toBe(Number(moving[0]!.n));
    expect(await state()).toEqual(before);
  });

  it('merge mode under user-phone: the same moves, and restore puts both tables back', async () => {
    const before = await state();
    const oracle = await sqlOracle(test, 'leads', ['user_id', 'phone'], true);
    await expectedKeepers(['user_id', 'phone']);
    const expected = await test.query(expectedActivities);
    const run = await applyClean(test.database, await options('user-phone', { mode: 'merge' }));
    expect(run.rowsRemoved).toBe(oracle.surplus);
    expect(await test.query('select id, device_id, lead_id, body from device_activities order by id')).toEqual(expected);
    await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true });
    expect(await state()).toEqual(before);
  });

  it('skips a group whose moved rows would break a child unique index over the composite key', async () => {
    await test.exec(`delete from device_activities where body like 'visit%' or body like 'orphan%';
create unique index device_activities_one_per_lead on device_activities (device_id, lead_id);`);
    const before = await state();
    const oracle = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);
    // groups where two members each have an activity: after the move both would carry (device_id, keeper)
    const blocked = await test.query<{ n: string }>(`select count(*) as n from (
  select l.device_id, l.phone from leads l join device_activities a on a.lead_id = l.id
  where l.phone is not null group by l.device_id, l.phone having count(*) > 1 and count(distinct l.id) > 1) g`);
    const run = await applyClean(test.database, await options('device-phone'));
    expect(run.skippedGroups).toBe(Number(blocked[0]!.n));
    expect(run.skippedGroups).toBeGreaterThan(0);
    expect(run.rowsRemoved).toBeLessThan(oracle.surplus);
    await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true });
    expect(await state()).toEqual(before);
  });
  it('skips a group whose keeper has no device_id while a moved row would take it (user-phone), and the dry run says so', async () => {
    await expectedKeepers(['user_id', 'phone']);
    // keepers of groups where some removed copy has an activity with a full key
    const blocked = await test.query<{ keeper: number }>(`select distinct e.keeper from expected_keepers e
join device_activities a on a.lead_id = e.id and a.device_id is not null where e.keeper <> e.id order by 1 limit 5`);
    expect(blocked.length).toBe(5);
    // the keeper's own activities reference nothing once its device_id is NULL (MATCH SIMPLE), so they first lose theirs
    const keepers = blocked.map((row) => Number(row.keeper)).join(', ');
    await test.exec(`alter table leads alter column device_id drop not null;
update device_activities set device_id = null where lead_id in (${keepers});
update leads set device_id = null where id in (${keepers});`);
    const before = await state();
    expect((await planClean(test.database, await options('user-phone'))).skippedGroups).toBe(5);
    const run = await applyClean(test.database, await options('user-phone'));
    expect(run.skippedGroups).toBe(5);
    expect(run.skipped.every((group) => group.reason.includes('has no device_id'))).toBe(true);
    // no activity points at a keeper with a NULL part of its key: every full key still references a lead
    const dangling = await test.query<{ n: string }>(
      'select count(*) as n from device_activities a where a.device_id is not null and not exists (select 1 from leads l where l.id = a.lead_id and l.device_id = a.device_id)',
    );
    expect(Number(dangling[0]!.n)).toBe(0);
    await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true });
    expect(await state()).toEqual(before);
  });
});
