import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyClean } from '../../src/clean/apply-clean.js';
import { planClean } from '../../src/clean/preview.js';
import { resolveCleanOptions } from '../../src/cli/clean-flags.js';
import type { CleanOptions } from '../../src/clean/types.js';
import { restoreRun } from '../../src/clean/restore/restore.js';
import { loadChildReferences } from '../../src/clean/foreign-keys.js';
import { deleteVictimsStatement } from '../../src/clean/sql/batch-results-sql.js';
import { repointStatement } from '../../src/clean/sql/child-rows-sql.js';
import { pinnedScope, WHOLE_BATCH } from '../../src/clean/sql/shard-pin-sql.js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { resolveKeys, type KeySettings } from '../../src/keys/resolve-key.js';
import { CITUS_URL, openCitusDatabase, seedDistributedByDevice, seedDistributedById } from '../support/citus.js';
import { sqlOracle } from '../support/oracle.js';
import { PLAIN_KEY_SETTINGS } from '../support/table-facts.js';
import type { TestDatabase } from '../support/test-database.js';

/**
 * clean and restore on a Citus cluster: leads distributed by device_id with
 * its activities co-located (composite foreign key (device_id, lead_id)),
 * and leads distributed by id. Every figure is checked against SQL written
 * by hand and run on the coordinator.
 */
describe.skipIf(!CITUS_URL)('clean and restore on Citus (cluster)', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await openCitusDatabase();
  });
  afterAll(async () => test?.close());

  async function options(table: string, preset: string, overrides: Partial<CleanOptions> = {}, settings: Partial<KeySettings> = {}): Promise<CleanOptions> {
    const lead = await loadLeadTable(test.database.db, { table, idColumn: 'id', createdColumn: 'created_at' });
    const [key] = resolveKeys(lead, [preset], { ...PLAIN_KEY_SETTINGS, ...settings }).keys;
    return { ...resolveCleanOptions(key!, { mergeRule: [] }), batchSize: 50, ...overrides };
  }

  const checksum = async (table: string) =>
    (await test.query<{ md5: string }>(`select md5(string_agg(t::text, ',' order by id)) as md5 from ${table} t`))[0]!.md5;

  /** Each activity's lead after the clean, by hand: a removed lead's activities go to the oldest row of its group (then lowest id). */
  async function expectedActivities(table: string, child: string, columns: string[]) {
    return test.query<{ id: string; lead_id: string }>(`
      with keepers as (select id, first_value(id) over (partition by ${columns.join(', ')} order by created_at asc nulls last, id asc) as keeper
                       from ${table} where ${columns.map((c) => `${c} is not null`).join(' and ')})
      select a.id::text as id, coalesce(k.keeper, a.lead_id)::text as lead_id from ${child} a left join keepers k on k.id = a.lead_id order by a.id`);
  }

  it.each([
    ['delete', 'by_device_del', {}],
    ['merge', 'by_device_merge', {}],
    // groups larger than a batch's row cap are cut into chunks, each locking its group's keeper too
    ['merge', 'by_device_chunks', { batchRows: 4 }],
  ] as const)(
    'device-phone, %s mode, on leads distributed by device_id: exactly the surplus, every activity to its keeper, restore puts both back',
    async (mode, table, limits) => {
      const fixture = await seedDistributedByDevice(test, table, 3000);
      const child = fixture.childTable;
      const before = { leads: await checksum(table), activities: await checksum(child) };
      const oracle = await sqlOracle(test, table, ['device_id', 'phone'], true);
      expect(oracle.surplus).toBeGreaterThan(0);
      if ('batchRows' in limits) expect(oracle.largestGroup).toBeGreaterThan(limits.batchRows); // some group is really chunked
      const expected = await expectedActivities(table, child, ['device_id', 'phone']);

      const run = await applyClean(test.database, await options(table, 'device-phone', { mode, ...limits }));
      expect(run.status).toBe('done');
      expect(run.rowsRemoved).toBe(oracle.surplus);
      expect(await sqlOracle(test, table, ['device_id', 'phone'], true)).toMatchObject({ surplus: 0 });
      expect(await test.query(`select a.id::text as id, a.lead_id::text as lead_id from ${child} a order by a.id`)).toEqual(expected);
      // the key holds device_id, so batches are cut by shard: the rows each batch removed all lie in one shard, and the batches cover every shard that had a copy
      const [batches] = await test.query<{ most_shards: number; batches: number; shards: number }>(`
        with removed as (select batch_no, get_shard_id_for_distribution_column('${table}', (row_data->>'device_id')::bigint) as shard
                         from lead_dedupe.lead_dedupe_removed where run_id = ${run.runId})
        select (select max(n) from (select count(distinct shard) as n from removed group by batch_no) b)::int as most_shards,
               count(distinct batch_no)::int as batches, count(distinct shard)::int as shards from removed`);
      expect(batches!.most_shards).toBe(1);
      expect(batches!.batches).toBeGreaterThanOrEqual(batches!.shards);

      const restored = await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true });
      expect(restored.rowsReinserted).toBe(oracle.surplus);
      expect({ leads: await checksum(table), activities: await checksum(child) }).toEqual(before);
    },
  );

  it('device-phone with phone normalised to digits, on leads distributed by device_id: exactly the surplus, every activity to its keeper, restore puts both back', async () => {
    const table = 'by_device_digits';
    const fixture = await seedDistributedByDevice(test, table, 3000);
    const child = fixture.childTable;
    const before = { leads: await checksum(table), activities: await checksum(child) };
    // the seed's phones are ASCII: digits normalisation is a plain regexp here
    const columns = ['device_id', "nullif(regexp_replace(phone, '[^0-9]', '', 'g'), '')"];
    const oracle = await sqlOracle(test, table, columns, true);
    expect(oracle.surplus).toBeGreaterThan((await sqlOracle(test, table, ['device_id', 'phone'], true)).surplus); // spellings the raw key misses
    const expected = await expectedActivities(table, child, columns);

    const run = await applyClean(test.database, await options(table, 'device-phone', { mode: 'delete' }, { normalize: { phone: 'digits' } }));
    expect(run.status).toBe('done');
    expect(run.rowsRemoved).toBe(oracle.surplus);
    expect(await sqlOracle(test, table, columns, true)).toMatchObject({ surplus: 0 });
    expect(await test.query(`select a.id::text as id, a.lead_id::text as lead_id from ${child} a order by a.id`)).toEqual(expected);

    const restored = await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true });
    expect(restored.rowsReinserted).toBe(oracle.surplus);
    expect({ leads: await checksum(table), activities: await checksum(child) }).toEqual(before);
  });

  it("a shard-pinned batch's statements run on one shard (EXPLAIN: one task); unpinned, on every shard", async () => {
    const table = 'by_device_pinned';
    const fixture = await seedDistributedByDevice(test, table, 600);
    const { key } = await options(table, 'device-phone');
    const [one] = await test.query<{ device_id: string }>(`select device_id::text from ${table} group by device_id order by device_id limit 1`);
    const pin = pinnedScope({ column: 'device_id', values: [one!.device_id], holdsChunks: false });
    const client = new pg.Client({ connectionString: test.url! });
    await client.connect();
    try {
      await client.query('begin');
      await client.query(`create temporary table ld_members on commit drop as
        select id as row_id, md5(phone) as group_id, id as keeper_id, 2 as rank_in_group from ${table} where device_id = ${Number(one!.device_id)}`);
      const tasks = async (statement: { compile: (db: typeof test.database.db) => { sql: string; parameters: readonly unknown[] } }) => {
        const compiled = statement.compile(test.database.db);
        const plan = await client.query<{ 'QUERY PLAN': string }>(`explain ${compiled.sql}`, [...compiled.parameters]);
        return Number(/Task Count: (\d+)/.exec(plan.rows.map((row) => row['QUERY PLAN']).join('\n'))?.[1]);
      };
      const shards = Number((await test.query<{ n: string }>(`select count(*) as n from pg_dist_shard where logicalrelid = '${table}'::regclass`))[0]!.n);
      expect(shards).toBeGreaterThan(1);
      expect(await tasks(deleteVictimsStatement(key, pin))).toBe(1);
      expect(await tasks(deleteVictimsStatement(key, WHOLE_BATCH))).toBe(shards);
      const references = await loadChildReferences(test.database, key.table, new Set(['device_id', 'phone']));
      const activities = references.find((reference) => `${reference.schema}.${reference.table}`.endsWith(fixture.childTable));
      expect(await tasks(repointStatement(activities!, 'id', pin))).toBe(1);
    } finally {
      await client.query('rollback');
      await client.end();
    }
  });

  it('device-phone on leads distributed by id (activities distributed by lead_id): clean and restore', async () => {
    const table = 'by_id';
    const fixture = await seedDistributedById(test, table, 3000);
    const child = fixture.childTable;
    const before = { leads: await checksum(table), activities: await checksum(child) };
    const oracle = await sqlOracle(test, table, ['device_id', 'phone'], true);
    const expected = await expectedActivities(table, child, ['device_id', 'phone']);
    const run = await applyClean(test.database, await options(table, 'device-phone'));
    expect(run.rowsRemoved).toBe(oracle.surplus);
    expect(await sqlOracle(test, table, ['device_id', 'phone'], true)).toMatchObject({ surplus: 0 });
    // each moved activity went to its keeper's shard (by insert + delete): same ids, keeper's lead_id
    expect(await test.query(`select a.id::text as id, a.lead_id::text as lead_id from ${child} a order by a.id`)).toEqual(expected);
    await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true });
    expect({ leads: await checksum(table), activities: await checksum(child) }).toEqual(before);
  });

  it('an id repeated on a device of another shard (which the (device_id, id) key allows) is refused by clean and restore before any change; once it is gone, both run', async () => {
    const table = 'by_device_repeated_id';
    await seedDistributedByDevice(test, table, 600);
    const seeded = await checksum(table);
    const oracle = await sqlOracle(test, table, ['device_id', 'phone'], true);
    const run = await applyClean(test.database, await options(table, 'device-phone', { mode: 'delete' }));
    expect(run.rowsRemoved).toBe(oracle.surplus);

    const [lead] = await test.query<{ id: string; shard: string }>(
      `select id::text, get_shard_id_for_distribution_column('${table}', device_id)::text as shard from ${table} order by id limit 1`,
    );
    const [other] = await test.query<{ device_id: number }>(
      `select device_id from ${table} where get_shard_id_for_distribution_column('${table}', device_id) <> ${lead!.shard} order by device_id limit 1`,
    );
    await test.exec(`insert into ${table} overriding system value
      select (jsonb_populate_record(null::${table}, to_jsonb(l) || jsonb_build_object('device_id', ${other!.device_id}))).* from ${table} l where l.id = ${lead!.id}`);
    // two rows now share an id: ordered by id alone, their order (from two shards) would be arbitrary
    const repeatedChecksum = async () =>
      (await test.query<{ md5: string }>(`select md5(string_agg(t::text, ',' order by id, device_id)) as md5 from ${table} t`))[0]!.md5;
    const repeated = await repeatedChecksum();
    const refusal = (command: string) =>
      new RegExp(
        `^${command} needs a unique id column: public\\.${table} \\(distributed by device_id\\) has rows sharing a "id" value on different device_id values`,
      );
    await expect(applyClean(test.database, await options(table, 'device-phone'))).rejects.toThrow(refusal('clean'));
    await expect(restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true })).rejects.toThrow(refusal('restore'));
    expect(await repeatedChecksum()).toBe(repeated);

    await test.exec(`delete from ${table} where id = ${lead!.id} and device_id = ${other!.device_id}`);
    await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true });
    expect(await checksum(table)).toBe(seeded);
  });

  it("user-phone on leads distributed by device_id: groups span shards, moved activities take the keeper's device_id, restore puts both back", async () => {
    const table = 'by_device_user';
    const fixture = await seedDistributedByDevice(test, table, 3000);
    const child = fixture.childTable;
    const before = { leads: await checksum(table), activities: await checksum(child) };
    const oracle = await sqlOracle(test, table, ['user_id', 'phone'], true);
    const spanning = await test.query<{ n: string }>(
      `select count(*) as n from (select 1 from ${table} where phone is not null group by user_id, phone having count(distinct device_id) > 1) g`,
    );
    expect(Number(spanning[0]!.n)).toBeGreaterThan(0);
    const expected = await test.query(`
      with keepers as (select id, first_value(id) over w as keeper, first_value(device_id) over w as keeper_device
                       from ${table} where user_id is not null and phone is not null
                       window w as (partition by user_id, phone order by created_at asc nulls last, id asc))
      select a.id::text as id, coalesce(k.keeper_device, a.device_id) as device_id, coalesce(k.keeper, a.lead_id)::text as lead_id
      from ${child} a left join keepers k on k.id = a.lead_id order by a.id`);
    const moving = await test.query<{ n: string }>(`
      with keepers as (select id, first_value(id) over (partition by user_id, phone order by created_at asc nulls last, id asc) as keeper
                       from ${table} where user_id is not null and phone is not null)
      select count(*) as n from ${child} a join keepers k on k.id = a.lead_id where k.keeper <> a.lead_id`);
    // the dry run on the cluster counts what --execute then does
    const plan = await planClean(test.database, await options(table, 'user-phone'));
    expect(plan.rowsToRemove).toBe(oracle.surplus);
    expect(plan.childRows.map((c) => c.rows)).toEqual([Number(moving[0]!.n)]);
    const run = await applyClean(test.database, await options(table, 'user-phone'));
    expect(run.childRows.map((c) => c.rows)).toEqual([Number(moving[0]!.n)]);
    expect(run.status).toBe('done');
    expect(run.rowsRemoved).toBe(oracle.surplus);
    expect(await sqlOracle(test, table, ['user_id', 'phone'], true)).toMatchObject({ surplus: 0 });
    expect(await test.query(`select a.id::text as id, a.device_id, a.lead_id::text as lead_id from ${child} a order by a.id`)).toEqual(expected);
    const afterClean = { leads: await checksum(table), activities: await checksum(child) };
    // restore's dry run rehearses the same statements on the cluster and rolls them back
    const rehearsal = await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: false });
    expect(rehearsal.rowsReinserted).toBe(oracle.surplus);
    expect(rehearsal.childRows.map((c) => c.movedBack)).toEqual([Number(moving[0]!.n)]);
    expect({ leads: await checksum(table), activities: await checksum(child) }).toEqual(afterClean);
    const restored = await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true });
    expect(restored.childRows.map((c) => c.movedBack)).toEqual([Number(moving[0]!.n)]);
    expect(restored.rowsReinserted).toBe(oracle.surplus);
    expect({ leads: await checksum(table), activities: await checksum(child) }).toEqual(before);
  });

  it('--lock-timeout holds on the workers: a batch whose row another session holds gives up within it, changes nothing, and says so', async () => {
    const table = 'by_device_locked';
    const fixture = await seedDistributedByDevice(test, table, 1500);
    const before = { leads: await checksum(table), activities: await checksum(fixture.childTable) };
    // a copy of the first duplicate group (batches go shard by shard, in shard id order, then in key order), held FOR UPDATE by another session for the whole run
    const [copy] = await test.query<{ device_id: number; id: string }>(`
      select device_id, id from (select device_id, id, row_number() over (partition by device_id, phone order by created_at, id) as r
                                  from ${table} where phone is not null) x
      where r = 2 order by get_shard_id_for_distribution_column('${table}', device_id), device_id, id limit 1`);
    const holder = new pg.Client({ connectionString: test.url! });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query(`select 1 from ${table} where device_id = $1 and id = $2 for update`, [copy!.device_id, copy!.id]);
      const started = performance.now();
      const run = await applyClean(test.database, await options(table, 'device-phone', { batchSize: 100_000, lockTimeoutMs: 300, retries: 0 }));
      const elapsed = performance.now() - started;
      expect(run.status).toBe('failed');
      expect(run.stoppedBecause).toContain('--lock-timeout 300 ms');
      expect(run.rowsRemoved).toBe(0);
      expect(elapsed).toBeLessThan(10_000);
    } finally {
      await holder.query('rollback');
      await holder.end();
    }
    expect({ leads: await checksum(table), activities: await checksum(fixture.childTable) }).toEqual(before);
  });
});
