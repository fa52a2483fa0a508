import { describe, expect, it } from 'vitest';
import { requireDistributionColumn } from '../../src/core/constraint/citus-rule.js';
import type { TableDistribution } from '../../src/db/distribution.js';
import { UsageError } from '../../src/errors.js';
import { missingDistributionColumn } from '../../src/keys/distribution-rule.js';
import { distributionText } from '../../src/render/common/distribution-text.js';
import { fakeKey, fakeTable } from '../support/compile.js';

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
