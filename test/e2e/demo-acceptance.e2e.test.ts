import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from '../support/cli.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/**
 * The whole job on the 100,000-row demo data, through the binary, on a
 * server: scan finds the production figures, clean removes exactly them and
 * moves every activity, restore returns both tables to the same checksums,
 * and after a second clean the constraint locks the rule in.
 */
describe.skipIf(!SERVER_URL)('the demo data end to end (server)', () => {
  let test: TestDatabase;
  let db: string[];
  const checksums = async () =>
    (
      await test.query<{ leads: string; activities: string }>(`select
      (select md5(string_agg(t::text, ',' order by id)) from leads t) as leads,
      (select md5(string_agg(t::text, ',' order by id)) from lead_activities t) as activities`)
    )[0]!;
  const json = async (args: string[]) => {
    const result = await runCli([...args, ...db, '--format', 'json']);
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout);
  };

  beforeAll(async () => {
    assertBuilt();
    test = await TEST_TARGETS.find((t) => t.label === 'postgres')!.open();
    db = ['--database', test.url!];
    expect((await runCli(['seed', ...db])).code).toBe(0);
  });
  afterAll(async () => test?.close());

  it('scan 8,069 / 39 → clean removes exactly that → scan 0 → restore → same checksums → clean → constraint', async () => {
    const scanned = await json(['scan', '--key', 'device-phone']);
    expect([scanned.keys[0].surplus, scanned.keys[0].largestGroup]).toEqual([8069, 39]);

    const before = await checksums();
    const [counts] = await test.query<{ activities: string; victims_activities: string }>(`
      with ranked as (select id, row_number() over (partition by device_id, phone order by created_at, id) as rank
                      from leads where phone is not null)
      select (select count(*) from lead_activities) as activities,
             (select count(*) from lead_activities a join ranked r on r.id = a.lead_id where r.rank > 1) as victims_activities`);
    const cleaned = await json(['clean', '--key', 'device-phone', '--mode', 'delete', '--execute']);
    expect(cleaned.rowsRemoved).toBe(8069);
    expect(cleaned.childRows).toEqual([expect.objectContaining({ table: 'public.lead_activities', rows: Number(counts!.victims_activities) })]);
    expect((await json(['scan', '--key', 'device-phone'])).keys[0].groups).toBe(0);
    const [after] = await test.query<{ activities: string; orphans: string }>(`select
      (select count(*) from lead_activities) as activities,
      (select count(*) from lead_activities a where not exists (select 1 from leads l where l.id = a.lead_id)) as orphans`);
    expect([Number(after!.activities), Number(after!.orphans)]).toEqual([Number(counts!.activities), 0]);

    const restored = await runCli(['restore', String(cleaned.runId), '--execute', ...db]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await checksums()).toEqual(before);

    expect((await json(['clean', '--key', 'device-phone', '--execute'])).rowsRemoved).toBe(8069);
    const added = await runCli(['constraint', 'add', '--key', 'device-phone', '--execute', ...db]);
    expect(added.code, added.stderr).toBe(0);
    const status = await json(['constraint', 'status']);
    const protection = Object.fromEntries(status.keys.map((k: { key: { name: string }; protectedBy: string[] }) => [k.key.name, k.protectedBy]));
    expect(protection['device-phone']).toEqual(['leads_device_id_phone_key']);
    expect(protection['device-phone-niche']).toEqual([]);
    const again = await runCli(['constraint', 'add', '--key', 'device-phone', '--execute', ...db]);
    expect([again.code, again.stdout]).toEqual([0, expect.stringMatching(/^already protected: /)]);
  });
});
