import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { resolveKeys, type KeySettings } from '../../src/keys/resolve-key.js';
import type { ResolvedKey } from '../../src/keys/key-definition.js';
import { stageQuery, stageStatements } from '../../src/clean/sql/stage-sql.js';
import { CITUS_URL, openCitusDatabase, seedDistributedByDevice } from '../support/citus.js';
import { compileSql } from '../support/compile.js';
import { PLAIN_KEY_SETTINGS } from '../support/table-facts.js';
import type { TestDatabase } from '../support/test-database.js';

interface StagedRow {
  row_id: string;
  group_no: string;
  batch_no: number;
  pin_value: string;
}

/**
 * clean's stage on a Citus table distributed by device_id under device-phone
 * (groups numbered shard by shard, each shard's groups cut into batches of
 * their own), as --execute builds it (session tables) and as the dry run
 * reads it (one query), against the groups, shards and batch counts worked
 * out by hand on the coordinator.
 */
describe.skipIf(!CITUS_URL)('clean stage on Citus, by shard (cluster)', () => {
  let test: TestDatabase;
  const table = 'staged';
  let key: ResolvedKey;
  const deviceKey = async (settings: Partial<KeySettings> = {}) => {
    const lead = await loadLeadTable(test.database.db, { table, idColumn: 'id', createdColumn: 'created_at' });
    return resolveKeys(lead, ['device-phone'], { ...PLAIN_KEY_SETTINGS, ...settings }).keys[0]!;
  };

  beforeAll(async () => {
    test = await openCitusDatabase();
    await seedDistributedByDevice(test, table, 3000);
    key = await deviceKey();
  });
  afterAll(async () => test?.close());

  /** ld_stage as --execute builds it, on one session. */
  async function executeStage(batchSize: number, batchRows: number, maxGroups: number | null, staged = key): Promise<StagedRow[]> {
    const client = new pg.Client({ connectionString: test.url! });
    await client.connect();
    try {
      for (const statement of stageStatements(staged, batchSize, batchRows, maxGroups)) {
        const compiled = compileSql(statement);
        await client.query(compiled.sql, [...compiled.parameters]);
      }
      return (await client.query<StagedRow>('select s.row_id::text, s.group_no::text, s.batch_no, s.pin_value from pg_temp.ld_stage as s order by s.row_id'))
        .rows;
    } finally {
      await client.end();
    }
  }

  /** The same stage as the dry run reads it. */
  async function dryRunStage(batchSize: number, batchRows: number, maxGroups: number | null, staged = key): Promise<StagedRow[]> {
    const query = sql<StagedRow>`select s.row_id::text, s.group_no::text, s.batch_no, s.pin_value from (${stageQuery(staged, batchSize, batchRows, maxGroups)}) as s order by s.row_id`;
    return (await query.execute(test.database.db)).rows;
  }

  /** By hand: each duplicate group's rows, the group's number in (shard, device_id, phone) order and its shard. */
  const groupsByHand = `
    with g as (select device_id, phone, count(*) as n, get_shard_id_for_distribution_column('${table}', device_id) as shard
               from ${table} where device_id is not null and phone is not null group by 1, 2 having count(*) > 1),
         numbered as (select *, row_number() over (order by shard, device_id, phone) as group_no from g)`;

  it('stages exactly the rows of the duplicate groups, numbered shard by shard, each batch in one shard, ceil(groups / batch size) batches per shard', async () => {
    const batchSize = 7;
    const staged = await executeStage(batchSize, 10_000, null);
    const expected = await test.query<{ row_id: string; group_no: string; pin_value: string }>(`${groupsByHand}
      select l.id::text as row_id, x.group_no::text as group_no, l.device_id::text as pin_value
      from ${table} l join numbered x on x.device_id = l.device_id and x.phone = l.phone order by l.id`);
    expect(expected.length).toBeGreaterThan(0);
    expect(staged.map(({ row_id, group_no, pin_value }) => ({ row_id, group_no, pin_value }))).toEqual(expected);

    const cutQuery = sql<{ batches: number; spanning: number }>`
      with s as (select * from jsonb_to_recordset(${JSON.stringify(staged)}::jsonb) as s(row_id bigint, batch_no int, pin_value text))
      select count(distinct batch_no)::int as batches,
             (select count(*) from (select batch_no from s group by batch_no
                                    having count(distinct get_shard_id_for_distribution_column(${`public.${table}`}::regclass, pin_value::int)) > 1) x)::int as spanning
      from s`;
    const [cut] = (await cutQuery.execute(test.database.db)).rows;
    const [byHand] = await test.query<{ batches: number; shards: number }>(`${groupsByHand}
      select sum(ceil(groups / ${batchSize}.0))::int as batches, count(*)::int as shards from (select shard, count(*) as groups from numbered group by shard) per_shard`);
    expect(byHand!.shards).toBeGreaterThan(1);
    expect(cut!.spanning).toBe(0);
    expect(cut!.batches).toBe(byHand!.batches);
    // batch numbers are dense from 0, in group order
    expect(new Set(staged.map((row) => row.batch_no))).toEqual(new Set([...Array(byHand!.batches).keys()]));
  });

  it('the dry run reads the same stage; --max-groups keeps the first groups in (shard, key) order; a row cap cuts more batches', async () => {
    for (const [batchSize, batchRows, maxGroups] of [
      [7, 10_000, null],
      [1000, 10_000, 11],
      [1000, 6, null],
    ] as const) {
      const staged = await executeStage(batchSize, batchRows, maxGroups);
      expect(await dryRunStage(batchSize, batchRows, maxGroups)).toEqual(staged);
      if (maxGroups !== null) {
        const firstGroups = await test.query<{ row_id: string }>(`${groupsByHand}
          select l.id::text as row_id from ${table} l join numbered x on x.device_id = l.device_id and x.phone = l.phone
          where x.group_no <= ${maxGroups} order by l.id`);
        expect(staged.map((row) => ({ row_id: row.row_id }))).toEqual(firstGroups);
      }
      if (batchRows === 6) {
        // no batch holds more than 6 rows unless it is one group alone (a group over the cap is chunked; half the cap and more stand alone)
        const perBatch = new Map<number, { rows: number; groups: Set<string> }>();
        for (const row of staged) {
          const batch = perBatch.get(row.batch_no) ?? { rows: 0, groups: new Set<string>() };
          batch.rows += 1;
          batch.groups.add(row.group_no);
          perBatch.set(row.batch_no, batch);
        }
        for (const batch of perBatch.values()) expect(batch.rows <= 6 || batch.groups.size === 1).toBe(true);
      }
    }
  });

  it.each([
    // the seed's phones are ASCII: digits normalisation is a plain regexp here
    ['phone normalised to digits', { normalize: { phone: 'digits' } }, "nullif(regexp_replace(l.phone, '[^0-9]', '', 'g'), '')", false],
    ['NULLs equal', { nullsEqual: true }, 'l.phone', true],
  ] as const)(
    '%s: the rows of the groups found by hand, one number per group, and the dry run reads the same stage',
    async (_, settings, phone, nullsEqual) => {
      const other = await deviceKey(settings as Partial<KeySettings>);
      const staged = await executeStage(7, 10_000, null, other);
      expect(await dryRunStage(7, 10_000, null, other)).toEqual(staged);
      const sameGroup = nullsEqual ? `g.phone is not distinct from ${phone}` : `g.phone = ${phone}`;
      const groupsByHand = `select l.device_id, ${phone} as phone from ${table} l ${nullsEqual ? '' : `where ${phone} is not null`} group by 1, 2 having count(*) > 1`;
      const byHand = await test.query<{ row_id: string }>(`
      select l.id::text as row_id from ${table} l join (${groupsByHand}) g on g.device_id = l.device_id and ${sameGroup} order by l.id`);
      const [groups] = await test.query<{ n: number }>(`select count(*)::int as n from (${groupsByHand}) g`);
      const plain = await executeStage(7, 10_000, null);
      expect(byHand.length).toBeGreaterThan(plain.length); // the setting really adds rows (respellings, or NULL phones) to the groups
      expect(staged.map((row) => row.row_id)).toEqual(byHand.map((row) => row.row_id));
      expect(new Set(staged.map((row) => row.group_no)).size).toBe(groups!.n);
    },
  );
});
