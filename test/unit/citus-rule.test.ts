import { describe, expect, it } from 'vitest';
import { requireDistributionColumn } from '../../src/core/constraint/citus-rule.js';
import type { TableDistribution } from '../../src/db/distribution.js';
import { UsageError } from '../../src/errors.js';
import { missingDistributionColumn, shardAlignedColumn } from '../../src/keys/distribution-rule.js';
import { distributionText } from '../../src/render/common/distribution-text.js';
import { sql } from 'kysely';
import { pinnedScope, WHOLE_BATCH } from '../../src/clean/sql/shard-pin-sql.js';
import { stageQuery, stageStatements } from '../../src/clean/sql/stage-sql.js';
import { duplicateGroupRowsQuery } from '../../src/sql/duplicate-groups.js';
import { compileSql, fakeKey, fakeTable } from '../support/compile.js';

const DISTRIBUTED: TableDistribution = {
  citusVersion: '13.2-1',
  kind: 'distributed',
  method: 'hash',
  column: 'device_id',
  shardCount: 32,
  colocatedChildren: ['public.lead_activities'],
  coordinatorLeftoverBytes: 0,
};

/** The shard stage's windows over the group rows `rows` (--max-groups 5, batches of 1000 groups and 10000 rows). */
const SHARD_STAGE_WINDOWS = (
  rows: string,
) => `select row_id, group_no, group_id, chunked, pin_value, (dense_rank() over (order by shard, row_window, group_window, alone, chunk) - 1)::int4 as batch_no
from (select row_id, group_no, group_id, n > 10000 as chunked, shard, pin_value,
             case when n > 5000 then group_no else 0 end as alone,
             (sum(case when n > 5000 then 0 else 1 end) over (partition by shard order by group_no range between unbounded preceding and current row)
               - case when n > 5000 then 0 else n end)::int8
               / (10000 + 1 - max(case when n > 5000 then 0 else n end) over ()) as row_window,
             (dense_rank() over (partition by shard order by group_no) - 1) / 1000 as group_window,
             case when n > 10000 then (row_number() over (partition by group_no order by row_id) - 1) / 9999 else 0 end as chunk
      from (select r.row_id, r.n, s.shard, r."ld_k1"::text as pin_value, md5(jsonb_build_array("r"."ld_k1", "r"."ld_k2")::text) as group_id,
                   dense_rank() over (order by s.shard, "r"."ld_k1", "r"."ld_k2") as group_no
            from ${rows} as r
            join (select d."ld_k1", pg_catalog.get_shard_id_for_distribution_column((pg_catalog.quote_ident($1) || '.' || pg_catalog.quote_ident($2))::regclass, "d"."ld_k1") as shard
                  from (select distinct "ld_k1" from ${rows}) as d) as s on s."ld_k1" = r."ld_k1") as g
      where g.group_no <= 5) as b`;

function tableWith(distribution: TableDistribution | null) {
  const table = fakeTable(['id', 'device_id', 'user_id', 'phone', 'niche', 'created_at']);
  return { ...table, info: { ...table.info, distribution } };
}

describe("Citus' unique-index rule", () => {
  it('a key needs the distribution column itself, not normalised; other kinds and a single server have no rule', () => {
    const distributed = tableWith(DISTRIBUTED);
    expect(missingDistributionColumn(fakeKey(distributed, ['device_id', 'phone']))).toBe(null);
    expect(missingDistributionColumn(fakeKey(distributed, ['user_id', 'phone']))).toBe('device_id');
    expect(missingDistributionColumn(fakeKey(distributed, [{ column: 'device_id', normalize: 'trim' }, 'phone']))).toBe('device_id');
    for (const distribution of [null, { ...DISTRIBUTED, kind: 'reference' as const, method: null, column: null }, { ...DISTRIBUTED, column: null }]) {
      expect(missingDistributionColumn(fakeKey(tableWith(distribution), ['user_id', 'phone']))).toBe(null);
    }
  });

  it('the refusal names the rule, the column and the presets that include it', () => {
    const key = fakeKey(tableWith(DISTRIBUTED), ['user_id', 'phone'], { name: 'user-phone' });
    expect(() => requireDistributionColumn(key)).toThrow(UsageError);
    expect(() => requireDistributionColumn(key)).toThrow(
      'constraint add refuses key user-phone (user_id, phone) on public.leads: public.leads is a Citus table distributed by device_id, ' +
        'and Citus can only enforce a unique index that includes the distribution column itself (each shard checks its own rows; rows equal on device_id share a shard); ' +
        'keys that include device_id: device-phone, device-phone-niche, device-user-phone-niche (or list columns with it, e.g. --key device_id,…)',
    );
    expect(() => requireDistributionColumn(fakeKey(tableWith(DISTRIBUTED), ['device_id', 'phone']))).not.toThrow();
  });

  it('describes each placement in one line', () => {
    expect(distributionText(null)).toBe(null);
    expect(distributionText(DISTRIBUTED)).toBe('Citus 13.2-1: distributed by device_id (hash, 32 shard(s)); co-located child table(s): public.lead_activities');
    expect(distributionText({ ...DISTRIBUTED, kind: 'local', method: null, column: null, shardCount: null, colocatedChildren: [] })).toBe(
      "Citus 13.2-1: local table on the coordinator, not in Citus' metadata",
    );
    expect(distributionText({ ...DISTRIBUTED, coordinatorLeftoverBytes: 2_539_520, colocatedChildren: [] })).toBe(
      'Citus 13.2-1: distributed by device_id (hash, 32 shard(s)); the coordinator still holds 2.4 MB of its rows from before it was distributed (see truncate_local_data_after_distributing_table)',
    );
  });
});

describe('shard-aligned batches on Citus', () => {
  it('only a hash-distributed table under a key holding its distribution column as it is', () => {
    expect(shardAlignedColumn(fakeKey(tableWith(DISTRIBUTED), ['device_id', 'phone']))).toBe('device_id');
    expect(shardAlignedColumn(fakeKey(tableWith(DISTRIBUTED), ['user_id', 'phone']))).toBeNull();
    expect(shardAlignedColumn(fakeKey(tableWith(DISTRIBUTED), [{ column: 'device_id', normalize: 'trim' }, 'phone']))).toBeNull();
    expect(shardAlignedColumn(fakeKey(tableWith({ ...DISTRIBUTED, method: 'range' }), ['device_id', 'phone']))).toBeNull();
    expect(shardAlignedColumn(fakeKey(tableWith({ ...DISTRIBUTED, kind: 'reference', method: null, column: null }), ['device_id', 'phone']))).toBeNull();
    expect(shardAlignedColumn(fakeKey(tableWith(null), ['device_id', 'phone']))).toBeNull();
  });

  it('the stage takes the group rows from one window pass on the shards, then numbers groups by shard and cuts batches per shard on the coordinator; a single server keeps key order', () => {
    const statements = stageStatements(fakeKey(tableWith(DISTRIBUTED), ['device_id', 'phone']), 1000, 10000, 5).map((statement) => compileSql(statement));
    const [drop, , groupRows, stage, dropGroupRows] = statements;
    expect(drop!.sql).toBe('drop table if exists "pg_temp"."ld_stage", "pg_temp"."ld_chunk_keepers", "pg_temp"."ld_group_rows"');
    expect(groupRows!.sql).toBe(`create temporary table ld_group_rows as
select * from (select "l"."id" as row_id, "l"."device_id" as "ld_k1", "l"."phone" as "ld_k2", count(*) over (partition by "l"."device_id", "l"."phone") as n
from "public"."leads" as l
where "l"."device_id" is not null and "l"."phone" is not null) as r
where n > 1`);
    expect(stage!.sql).toBe(`create temporary table ld_stage as
${SHARD_STAGE_WINDOWS('"pg_temp"."ld_group_rows"')}`);
    expect(stage!.parameters).toEqual(['public', 'leads']);
    expect(dropGroupRows!.sql).toBe('drop table "pg_temp"."ld_group_rows"');
    // the dry run: the same windows over the group rows as a CTE
    const dryRun = compileSql(stageQuery(fakeKey(tableWith(DISTRIBUTED), ['device_id', 'phone']), 1000, 10000, 5));
    expect(dryRun.sql).toBe(`with ld_group_rows as materialized (${groupRows!.sql.replace('create temporary table ld_group_rows as\n', '')})
${SHARD_STAGE_WINDOWS('"ld_group_rows"')}`);
    const single = compileSql(stageQuery(fakeKey(tableWith(null), ['device_id', 'phone']), 1000, 10000, null));
    expect(single.sql).not.toContain('get_shard_id_for_distribution_column');
    expect(single.sql).toContain('dense_rank() over (order by row_window, group_window, alone, chunk)');
  });

  it("a normalised key's NULL test reads the window's count inside a CASE (not a WHERE the shards would evaluate the expression in again)", () => {
    const key = fakeKey(tableWith(DISTRIBUTED), ['device_id', { column: 'phone', normalize: 'trim' }]);
    expect(
      compileSql(duplicateGroupRowsQuery(key)).sql,
    ).toBe(`select * from (select "l"."id" as row_id, "l"."device_id" as "ld_k1", pg_catalog.btrim("l"."phone") as "ld_k2", count(*) over (partition by "l"."device_id", pg_catalog.btrim("l"."phone")) as n
from "public"."leads" as l) as r
where case when "ld_k1" is not null and "ld_k2" is not null then n > 1 else false end`);
  });

  it('a pin adds the distribution values as one parameter; no pin adds nothing', () => {
    const pin = pinnedScope({ column: 'device_id', values: ['7', '9'], holdsChunks: false });
    const pinned = compileSql(sql`select 1 from leads as l where true${pin.leads('l')}`);
    expect(pinned.sql).toBe('select 1 from leads as l where true and "l"."device_id" = any($1)');
    expect(pinned.parameters).toEqual([['7', '9']]);
    expect(compileSql(sql`select 1 from leads as l where true${WHOLE_BATCH.leads('l')}`).sql).toBe('select 1 from leads as l where true');
  });
});
