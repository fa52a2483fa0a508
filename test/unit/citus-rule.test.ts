import { describe, expect, it } from 'vitest';
import { requireDistributionColumn } from '../../src/core/constraint/citus-rule.js';
import type { TableDistribution } from '../../src/db/distribution.js';
import { UsageError } from '../../src/errors.js';
import { missingDistributionColumn, shardAlignedColumn } from '../../src/keys/distribution-rule.js';
import { distributionText } from '../../src/render/common/distribution-text.js';
import { sql } from 'kysely';
import { pinnedTo } from '../../src/sql/clean/shard-pin.js';
import { stageQuery } from '../../src/sql/clean/stage.js';
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

  it('the stage orders groups by shard first and cuts batches at shard boundaries; a single server keeps key order', () => {
    const aligned = compileSql(stageQuery(fakeKey(tableWith(DISTRIBUTED), ['device_id', 'phone']), 1000, 10000, null));
    expect(aligned.sql).toContain(
      `select d.*, pg_catalog.get_shard_id_for_distribution_column((pg_catalog.quote_ident($1) || '.' || pg_catalog.quote_ident($2))::regclass, "d"."ld_k1") as shard from (`,
    );
    expect(aligned.sql).toContain('row_number() over (order by shard, "ld_k1", "ld_k2") as group_no');
    expect(aligned.sql).toContain('dense_rank() over (order by shard, row_window, group_window, alone, chunk)');
    expect(aligned.sql).toContain('b."ld_k1"::text as pin_value');
    const single = compileSql(stageQuery(fakeKey(tableWith(null), ['device_id', 'phone']), 1000, 10000, null));
    expect(single.sql).not.toContain('get_shard_id_for_distribution_column');
    expect(single.sql).toContain('dense_rank() over (order by row_window, group_window, alone, chunk)');
  });

  it('a pin adds the distribution values as one parameter; no pin adds nothing', () => {
    const pin = { column: 'device_id', values: ['7', '9'] };
    const pinned = compileSql(sql`select 1 from leads as l where true${pinnedTo(pin, 'l')}`);
    expect(pinned.sql).toBe('select 1 from leads as l where true and "l"."device_id" = any($1)');
    expect(pinned.parameters).toEqual([['7', '9']]);
    expect(compileSql(sql`select 1 from leads as l where true${pinnedTo(null, 'l')}`).sql).toBe('select 1 from leads as l where true');
  });
});
