import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli, startCli, type Running } from '../support/cli.js';
import { CITUS_URL, openCitusDatabase, seedDistributedByDevice } from '../support/citus.js';
import { sqlOracle } from '../support/oracle.js';
import { countRows, tableChecksum } from '../support/table-facts.js';
import type { TestDatabase } from '../support/test-database.js';

/**
 * clean --execute through the built binary on a Citus cluster (leads
 * distributed by device_id, activities co-located): a run killed with
 * SIGKILL mid-clean loses nothing (every committed batch archived, the
 * batch in flight rolled back on every shard), the rerun finishes the job,
 * and a writer inserting meanwhile never has a row removed that is not a
 * duplicate of a keeper still holding its key.
 * Every figure is checked against SQL written by hand, run on the coordinator.
 */
describe.skipIf(!CITUS_URL)('clean on Citus through the binary: SIGKILL, rerun, concurrent writer', () => {
  let test: TestDatabase & { workers: { host: string; port: number }[] };
  let url: string;
  const count = (text: string) => countRows(test, text);
  const checksum = async () => ({ leads: await tableChecksum(test, 'leads'), activities: await tableChecksum(test, 'lead_activities') });

  async function waitFor(what: string, condition: () => Promise<boolean>, run?: Running): Promise<void> {
    for (let i = 0; i < 1200; i++) {
      if (await condition()) return;
      if (run && run.child.exitCode !== null) throw new Error(`the run ended (exit ${run.child.exitCode}) before ${what}:\n${run.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out waiting for ${what}${run ? `; output so far:\n${run.output()}` : ''}`);
  }
  const runRecords = () =>
    test.query<{ id: string; status: string; batches_done: number; rows_removed: string }>(
      'select id::text as id, status, batches_done, rows_removed::text as rows_removed from lead_dedupe.lead_dedupe_runs order by id',
    );

  beforeAll(async () => {
    assertBuilt();
    test = await openCitusDatabase();
    url = test.url!;
  });
  afterAll(async () => test?.close());

  it.each([
    ['device-phone', ['device_id', 'phone']],
    ['user-phone', ['user_id', 'phone']],
  ])('%s: SIGKILL mid-clean loses nothing; the rerun removes exactly the rest; restore of both runs puts both tables back', async (preset, columns) => {
    await test.exec('drop schema if exists lead_dedupe cascade;\ndrop table if exists lead_activities, leads cascade;\n');
    await seedDistributedByDevice(test, 'leads', 3000);
    const before = await checksum();
    const leadsBefore = await count('select * from leads');
    const oracle = await sqlOracle(test, 'leads', columns, true);
    expect(oracle.surplus).toBeGreaterThan(20);

    const run = startCli(['clean', '--database', url, '--key', preset, '--execute', '--batch-size', '5', '--pause', '200ms']);
    await waitFor(
      'two committed batches',
      async () =>
        (await count(`select 1 from pg_tables where schemaname = 'lead_dedupe' and tablename = 'lead_dedupe_runs'`)) > 0 &&
        (await count(`select 1 from lead_dedupe.lead_dedupe_runs where status = 'running' and batches_done >= 2`)) > 0,
      run,
    );
    run.child.kill('SIGKILL');
    await run.done;
    // nothing lost: every removed row is in the archive, no transaction is left prepared on any node
    const archivedFirst = await count('select * from lead_dedupe.lead_dedupe_removed');
    expect(archivedFirst).toBeGreaterThan(0);
    expect((await count('select * from leads')) + archivedFirst).toBe(leadsBefore);
    await waitFor('no prepared transaction left', async () => (await count('select * from pg_prepared_xacts')) === 0);

    const rerun = await runCli(['clean', '--database', url, '--key', preset, '--execute', '--batch-size', '50']);
    expect(rerun.code, rerun.stderr).toBe(0);
    const records = await runRecords();
    expect(records.map((r) => r.status)).toEqual(['interrupted', 'done']);
    // the two runs together removed exactly the surplus the hand-written oracle counted before
    expect(Number(records[0]!.rows_removed) + Number(records[1]!.rows_removed)).toBe(oracle.surplus);
    expect(await sqlOracle(test, 'leads', columns, true)).toMatchObject({ surplus: 0 });
    // every activity still references a lead (none cascaded away with a removed copy)
    expect(await count('select * from lead_activities a where not exists (select 1 from leads l where l.device_id = a.device_id and l.id = a.lead_id)')).toBe(
      0,
    );

    const listed = await runCli(['runs', '--database', url, '--format', 'csv']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${records[1]!.id},done,`, 'm'));
    expect(listed.stdout).toMatch(new RegExp(`^${records[0]!.id},interrupted,`, 'm'));
    for (const record of [...records].reverse()) {
      const restored = await runCli(['restore', record.id, '--database', url, '--execute']);
      expect(restored.code, restored.stderr).toBe(0);
    }
    expect(await checksum()).toEqual(before);
  });

  it('a writer inserting while clean runs: its unique rows all stay, its copies go only as duplicates of a keeper that still holds their key, nothing lost', async () => {
    await test.exec('drop schema if exists lead_dedupe cascade;\ndrop table if exists lead_activities, leads cascade;\n');
    await seedDistributedByDevice(test, 'leads', 3000);
    const firstNewId = Number((await test.query<{ n: string }>('select max(id) + 1 as n from leads'))[0]!.n);
    const copies = await test.query<{ device_id: number; user_id: number; phone: string; email: string | null }>(
      'select device_id, user_id, phone, email from leads where phone is not null order by id limit 500',
    );
    const writer = new pg.Client({ connectionString: url });
    await writer.connect();
    let writing = true;
    let inserted = 0;
    // even: a copy of an existing lead created a day from now (it ranks after the keeper); odd: a lead whose phone nobody else has
    const write = (async () => {
      while (writing) {
        const copy = copies[inserted % copies.length]!;
        const phone = inserted % 2 === 0 ? copy.phone : `+1555${String(inserted).padStart(7, '0')}`;
        await writer.query(`insert into leads (id, device_id, user_id, phone, email, created_at) values ($1, $2, $3, $4, $5, now() + interval '1 day')`, [
          firstNewId + inserted,
          copy.device_id,
          copy.user_id,
          phone,
          copy.email,
        ]);
        inserted += 1;
      }
    })();
    try {
      const run = await runCli(['clean', '--database', url, '--key', 'device-phone', '--execute', '--batch-size', '10']);
      expect(run.code, run.stderr).toBe(0);
    } finally {
      writing = false;
      await write;
      await writer.end();
    }
    expect(inserted).toBeGreaterThan(10);
    const uniqueNew = Math.floor(inserted / 2);
    expect(await count(`select * from leads where id >= ${firstNewId} and phone like '+1555%'`)).toBe(uniqueNew);
    // nothing lost: every row, old or new, is in the table or in the archive
    expect((await count('select * from leads')) + (await count('select * from lead_dedupe.lead_dedupe_removed'))).toBe(3000 + inserted);
    // every removed row (the writer's included) had, when removed, the key of a keeper that is still there with that key
    expect(
      await count(`with r as materialized (select keeper_id::bigint as keeper_id, (row_data->>'device_id')::int as device_id, row_data->>'phone' as phone
                                      from lead_dedupe.lead_dedupe_removed)
        select * from r left join leads k on k.id = r.keeper_id and k.device_id = r.device_id and k.phone = r.phone where k.id is null`),
    ).toBe(0);
  });

  it('one run per table across the cluster: a second run through the coordinator exits 4; a run through a worker is refused (exit 2) before any change', async () => {
    await test.exec('drop schema if exists lead_dedupe cascade;\ndrop table if exists lead_activities, leads cascade;\n');
    await seedDistributedByDevice(test, 'leads', 1000);
    const before = await checksum();
    const first = startCli(['clean', '--database', url, '--key', 'device-phone', '--execute', '--batch-size', '1', '--pause', '1s']);
    try {
      await waitFor(
        'the first run to start',
        async () =>
          (await count(`select 1 from pg_tables where schemaname = 'lead_dedupe' and tablename = 'lead_dedupe_runs'`)) > 0 &&
          (await count(`select 1 from lead_dedupe.lead_dedupe_runs where status = 'running'`)) > 0,
        first,
      );
      const second = await runCli(['clean', '--database', url, '--key', 'device-phone', '--execute']);
      expect(second.code, second.stderr).toBe(4);
      expect(second.stderr).toMatch(/^lead-dedupe: another lead-dedupe run holds the lock on public\.leads: run \d+/);
    } finally {
      first.child.kill('SIGTERM');
      await first.done;
    }
    const onWorker = new URL(url);
    onWorker.port = String(test.workers[0]!.port);
    const runsBefore = await count('select * from lead_dedupe.lead_dedupe_runs');
    const refused = await runCli(['clean', '--database', onWorker.toString(), '--key', 'device-phone', '--execute']);
    expect({ code: refused.code, stderr: refused.stderr }).toEqual({
      code: 2,
      stderr:
        "lead-dedupe: public.leads is a Citus distributed table and this is not the cluster's coordinator: connect to the coordinator, where the one-run-per-table lock lives\n",
    });
    expect(await count('select * from lead_dedupe.lead_dedupe_runs')).toBe(runsBefore);
    const restored = await runCli(['restore', (await runRecords())[0]!.id, '--database', url, '--execute']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await checksum()).toEqual(before);
  });
  it('a child row inserted for a copy the batch has locked waits, then fails its foreign key check: it is never cascaded away unseen', async () => {
    await test.exec(`drop schema if exists lead_dedupe cascade;
drop table if exists lead_activities, leads cascade;
create table leads (id bigint not null, device_id integer not null, user_id integer not null, phone text, email text,
  created_at timestamptz not null, primary key (device_id, id));
create table lead_activities (id bigint not null, device_id integer not null, lead_id bigint not null, kind text not null, primary key (device_id, id));
select create_distributed_table('leads', 'device_id', shard_count => 4);
select create_distributed_table('lead_activities', 'device_id', colocate_with => 'leads');
alter table lead_activities add foreign key (device_id, lead_id) references leads (device_id, id) on delete cascade;
-- one group: the keeper (oldest) has the higher id, so the batch's shard lock takes the copy (id 5) first, then waits for the keeper
insert into leads values (5, 1, 1, '+15550000001', null, '2021-01-01'), (10, 1, 1, '+15550000001', null, '2020-01-01');
insert into lead_activities values (1, 1, 5, 'call'), (2, 1, 10, 'visit');`);
    const holder = new pg.Client({ connectionString: url });
    const child = new pg.Client({ connectionString: url });
    await holder.connect();
    await child.connect();
    try {
      await holder.query('begin');
      await holder.query('select * from leads where device_id = 1 and id = 10 for update');
      const run = startCli(['clean', '--database', url, '--key', 'device-phone', '--execute']);
      await waitFor('the batch to wait for the keeper', async () => (await count('select * from citus_lock_waits')) > 0, run);
      const insert = child.query(`insert into lead_activities values (3, 1, 5, 'late call')`).then(
        () => 'inserted',
        (error: { code?: string }) => error.code,
      );
      await waitFor('the child insert to wait for the copy', async () => (await count('select * from citus_lock_waits')) > 1, run);
      await holder.query('commit');
      const finished = await run.done;
      expect(finished.code, finished.stderr).toBe(0);
      // 23503: foreign_key_violation — the insert saw the copy gone; had it gone through, the delete would have cascaded it away
      expect(await insert).toBe('23503');
    } finally {
      await holder.end();
      await child.end();
    }
    expect(await test.query('select id::int, lead_id::int from lead_activities order by id')).toEqual([
      { id: 1, lead_id: 10 },
      { id: 2, lead_id: 10 },
    ]);
    expect(await count('select * from leads')).toBe(1);
  });
  it("a writer's update to a copy, committed while the batch waits for it, is what the archive keeps (and restore brings back)", async () => {
    await test.exec(`drop schema if exists lead_dedupe cascade;
drop table if exists lead_activities, leads cascade;
create table leads (id bigint not null, device_id integer not null, user_id integer not null, phone text, email text,
  created_at timestamptz not null, primary key (device_id, id));
select create_distributed_table('leads', 'device_id', shard_count => 4);
insert into leads values (5, 1, 1, '+15550000001', 'old@example.com', '2021-01-01'), (10, 1, 1, '+15550000001', null, '2020-01-01'),
  (7, 2, 2, '+15550000002', null, '2021-01-01'), (8, 2, 2, '+15550000002', null, '2020-01-01');`);
    const writer = new pg.Client({ connectionString: url });
    await writer.connect();
    try {
      await writer.query('begin');
      await writer.query(`update leads set email = 'new@example.com' where device_id = 1 and id = 5`);
      const run = startCli(['clean', '--database', url, '--key', 'device-phone', '--execute']);
      await waitFor('the batch to wait for the writer', async () => (await count('select * from citus_lock_waits')) > 0, run);
      await writer.query('commit');
      const finished = await run.done;
      expect(finished.code, finished.stderr).toBe(0);
    } finally {
      await writer.end();
    }
    expect(await test.query(`select row_id, row_data->>'email' as email from lead_dedupe.lead_dedupe_removed order by row_id`)).toEqual([
      { row_id: '5', email: 'new@example.com' },
      { row_id: '7', email: null },
    ]);
    const restored = await runCli(['restore', '1', '--database', url, '--execute']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await test.query('select id::int, email from leads order by id')).toEqual([
      { id: 5, email: 'new@example.com' },
      { id: 7, email: null },
      { id: 8, email: null },
      { id: 10, email: null },
    ]);
  });
});
