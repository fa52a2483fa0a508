import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from '../support/cli.js';
import { CITUS_URL, openCitusDatabase, seedDistributedByDevice } from '../support/citus.js';
import { sqlOracle } from '../support/oracle.js';
import { countRows, tableChecksum } from '../support/table-facts.js';
import type { TestDatabase } from '../support/test-database.js';

/**
 * The whole life of a duplicate problem on a 3-node Citus cluster, through
 * the built binary: the demo data seeded, then distributed by device_id with
 * its activities co-located; scan → clean --execute → scan shows none →
 * constraint add → restore (refused while the constraint stands, then after
 * constraint drop) puts both tables back. Every figure comes from SQL written
 * by hand and run on the coordinator.
 */
describe.skipIf(!CITUS_URL)('Citus: scan, clean, constraint add and restore through the binary', () => {
  let test: TestDatabase;
  let url: string;
  const checksum = async () => ({ leads: await tableChecksum(test, 'leads'), activities: await tableChecksum(test, 'lead_activities') });
  const scanJson = async (extra: string[] = []) => {
    const scanned = await runCli(['scan', '--database', url, '--key', 'device-phone', '--format', 'json', ...extra]);
    expect(scanned.code, scanned.stderr).toBe(0);
    return JSON.parse(scanned.stdout) as { rows: number; keys: { groups: number; surplus: number; largestGroup: number }[] };
  };

  beforeAll(async () => {
    assertBuilt();
    test = await openCitusDatabase();
    url = test.url!;
  });
  afterAll(async () => test?.close());

  it('scan → clean --execute → scan shows 0 → constraint add → restore returns both checksums', async () => {
    await seedDistributedByDevice(test, 'leads', 5000);
    const before = await checksum();
    const oracle = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);
    const activitiesBefore = await countRows(test, 'select * from lead_activities');
    expect(oracle.surplus).toBeGreaterThan(50);

    const first = await scanJson();
    expect(first.rows).toBe(await countRows(test, 'select * from leads'));
    expect(first.keys[0]).toMatchObject({ groups: oracle.groups, surplus: oracle.surplus, largestGroup: oracle.largestGroup });

    const cleaned = await runCli(['clean', '--database', url, '--key', 'device-phone', '--execute', '--format', 'json']);
    expect(cleaned.code, cleaned.stderr).toBe(0);
    expect(await countRows(test, 'select * from lead_dedupe.lead_dedupe_removed')).toBe(oracle.surplus);
    // every activity moved to a keeper, none lost
    expect(await countRows(test, 'select * from lead_activities')).toBe(activitiesBefore);
    expect(
      await countRows(test, 'select * from lead_activities a where not exists (select 1 from leads l where l.device_id = a.device_id and l.id = a.lead_id)'),
    ).toBe(0);

    const after = await scanJson(['--fail-on-duplicates']);
    expect(after.keys[0]).toMatchObject({ groups: 0, surplus: 0 });
    expect(await sqlOracle(test, 'leads', ['device_id', 'phone'], true)).toMatchObject({ groups: 0, surplus: 0 });

    const added = await runCli(['constraint', 'add', '--database', url, '--key', 'device-phone', '--execute']);
    expect(added.code, added.stderr).toBe(0);
    const [constraint] = await test.query<{ conname: string }>(
      `select conname from pg_constraint where conrelid = 'leads'::regclass and contype = 'u' and pg_get_constraintdef(oid) like '%(device_id, phone)%'`,
    );
    expect(constraint).toBeDefined();

    const [run] = await test.query<{ id: string }>('select id::text as id from lead_dedupe.lead_dedupe_runs');
    // The constraint now forbids what the restore would put back: refused, nothing changed.
    const refused = await runCli(['restore', run!.id, '--database', url, '--execute']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(constraint!.conname);
    expect(await countRows(test, 'select * from lead_dedupe.lead_dedupe_removed')).toBe(oracle.surplus);

    const dropped = await runCli(['constraint', 'drop', constraint!.conname, '--database', url, '--execute']);
    expect(dropped.code, dropped.stderr).toBe(0);
    const restored = await runCli(['restore', run!.id, '--database', url, '--execute']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await checksum()).toEqual(before);
  });
});
