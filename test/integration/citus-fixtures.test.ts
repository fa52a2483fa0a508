import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CITUS_URL, openCitusDatabase, seedDistributedByDevice, seedDistributedById, seedLocal, seedReference } from '../support/citus.js';
import type { TestDatabase } from '../support/test-database.js';

/** The Citus fixtures are what they claim: placement, co-location, keys and every row kept through distribution. */
describe.skipIf(!CITUS_URL)('Citus fixtures (cluster)', () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await openCitusDatabase();
  });
  afterAll(async () => {
    await test?.close();
  });

  async function placement(table: string) {
    const [row] = await test.query<{ method: string | null; column: string | null; colocation: number | null; nodes: string }>(
      `select p.partmethod::text as method, column_to_column_name(p.logicalrelid, p.partkey) as column, p.colocationid as colocation,
              (select count(distinct s.nodeport) from citus_shards s where s.table_name = '${table}'::regclass) as nodes
       from (select '${table}'::regclass as r) t left join pg_dist_partition p on p.logicalrelid = t.r`,
    );
    return row!;
  }

  it('leads distributed by device_id with lead_activities co-located, rows and activities intact', async () => {
    const fixture = await seedDistributedByDevice(test, 'leads', 3000);
    const leads = await placement('leads');
    const activities = await placement('lead_activities');
    expect(leads).toMatchObject({ method: 'h', column: 'device_id', nodes: '2' });
    expect(activities).toMatchObject({ method: 'h', column: 'device_id', colocation: leads.colocation });
    const [counts] = await test.query<{ leads: string; activities: string; orphans: string }>(`select
      (select count(*) from leads) as leads, (select count(*) from lead_activities) as activities,
      (select count(*) from lead_activities a where not exists (select from leads l where l.device_id = a.device_id and l.id = a.lead_id)) as orphans`);
    expect(counts).toEqual({ leads: String(fixture.rows), activities: String(fixture.activities), orphans: '0' });
    const keys = await test.query<{ def: string }>(
      `select pg_get_constraintdef(oid) as def from pg_constraint where conrelid in ('leads'::regclass, 'lead_activities'::regclass) and contype in ('p', 'f') order by conrelid, contype`,
    );
    expect(keys.map((k) => k.def)).toEqual([
      'PRIMARY KEY (device_id, id)',
      'FOREIGN KEY (device_id, lead_id) REFERENCES leads(device_id, id) ON DELETE CASCADE',
      'PRIMARY KEY (device_id, id)',
    ]);
  });

  it('leads distributed by id, reference and coordinator-local tables', async () => {
    await seedDistributedById(test, 'leads_by_id', 1000);
    await seedReference(test, 'ref_leads', 500);
    await seedLocal(test, 'local_leads', 500);
    expect(await placement('leads_by_id')).toMatchObject({ method: 'h', column: 'id', nodes: '2' });
    expect(await placement('leads_by_id_activities')).toMatchObject({ method: 'h', column: 'lead_id' });
    expect(await placement('ref_leads')).toMatchObject({ method: 'n', column: null });
    expect(await placement('local_leads')).toMatchObject({ method: null, column: null });
  });
});
