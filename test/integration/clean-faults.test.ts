import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyClean } from '../../src/clean/apply-clean.js';
import { resolveCleanOptions } from '../../src/cli/clean-flags.js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { resolveKeys } from '../../src/keys/resolve-key.js';
import { seed } from '../../src/seed/seed.js';
import { sqlOracle } from '../support/oracle.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/**
 * Faults on the real server, through the built binary (npm run build first;
 * `npm test` does): kill -9 mid-run, a concurrent writer, two runs at once,
 * Ctrl-C, and a user without the rights.
 */
interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function startCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['bin/lead-dedupe.js', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Finished>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

const server = TEST_TARGETS.find((t) => t.label === 'postgres')!;

describe.skipIf(!SERVER_URL)('clean faults on the server (built binary)', () => {
  let test: TestDatabase;
  let url: string;
  const count = async (sql: string) => Number((await test.query<{ n: string }>(`select count(*) as n from (${sql}) q`))[0]!.n);
  const checksum = async (table: string) =>
    (await test.query<{ md5: string }>(`select md5(string_agg(t::text, ',' order by id)) as md5 from ${table} t`))[0]!.md5;
  const clean = (...extra: string[]) => ['clean', '--database', url, '--key', 'device-phone', '--execute', ...extra];

  /** Resolves once the newest run has committed `batches` batches. */
  async function waitForBatches(batches: number): Promise<void> {
    for (let i = 0; i < 600; i++) {
      const exists = await count(`select 1 from pg_tables where schemaname = 'lead_dedupe' and tablename = 'lead_dedupe_runs'`);
      if (
        exists &&
        (await count(`select 1 from lead_dedupe.lead_dedupe_runs where id = (select max(id) from lead_dedupe.lead_dedupe_runs) and batches_done >= ${batches}`))
      )
        return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no run reached ${batches} batches`);
  }

  /** Polls until a session of this database is (or no longer is) waiting for a lock. */
  async function waitForLockWait(waiting: boolean): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      const waiters = await count(`select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
      if (waiters > 0 === waiting) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`no lock wait ${waiting ? 'began' : 'ended'}`);
  }

  beforeAll(async () => {
    test = await server.open();
    url = test.url!;
  });
  afterAll(async () => test?.close());
  beforeEach(async () => {
    await test.exec('drop schema if exists lead_dedupe cascade;\n');
    await seed(test.database, { table: 'leads', rows: 5000, scenario: 'production', replace: true });
  });

  it('SIGKILL mid-run loses nothing: committed batches fully archived, the rest rolled back, a rerun finishes', async () => {
    const before = await count('select * from leads');
    const activities = await count('select * from lead_activities');
    const oracle = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);
    const run = startCli(clean('--batch-size', '5', '--pause', '100ms'));
    await waitForBatches(3);
    run.child.kill('SIGKILL');
    const killed = await run.done;
    expect(killed.signal).toBe('SIGKILL');

    const [record] = await test.query<{ id: string; status: string; batches_done: number; rows_removed: string }>(
      'select id::text as id, status, batches_done, rows_removed from lead_dedupe.lead_dedupe_runs',
    );
    expect(record!.status).toBe('running');
    const archived = await count(`select * from lead_dedupe.lead_dedupe_removed where run_id = ${record!.id}`);
    expect(archived).toBe(Number(record!.rows_removed));
    expect(archived).toBeGreaterThan(0);
    expect(archived).toBeLessThan(oracle.surplus);
    // every committed batch is there, and only those
    expect(await count(`select distinct batch_no from lead_dedupe.lead_dedupe_removed where run_id = ${record!.id}`)).toBe(record!.batches_done);
    expect((await count('select * from leads')) + archived).toBe(before);
    expect(await count('select * from lead_activities')).toBe(activities);
    expect(await count(`select * from leads where id::text in (select row_id from lead_dedupe.lead_dedupe_removed)`)).toBe(0);

    const rerun = await startCli(clean('--format', 'json')).done;
    expect(rerun.code, rerun.stderr).toBe(0);
    const statuses = await test.query<{ status: string }>('select status from lead_dedupe.lead_dedupe_runs order by id');
    expect(statuses.map((s) => s.status)).toEqual(['interrupted', 'done']);
    const total = await count('select * from lead_dedupe.lead_dedupe_removed');
    expect(total).toBe(oracle.surplus);
    expect((await count('select * from leads')) + total).toBe(before);
    // ON DELETE CASCADE never fired: every activity is still there, on a lead that exists
    expect(await count('select * from lead_activities')).toBe(activities);
    expect(await count(`select * from lead_activities where lead_id not in (select id from leads)`)).toBe(0);
  });

  it('a concurrent writer: no lead that is not a surplus duplicate goes, the run finishes, a second run removes the newcomers', async () => {
    const writer = new pg.Client({ connectionString: url });
    await writer.connect();
    let writing = true;
    let inserted = 0;
    const loop = (async () => {
      while (writing) {
        // a webhook retry (a new copy of a random existing lead) and a brand-new lead
        await writer.query(`insert into leads (device_id, user_id, phone, niche, name, source, created_at)
          select device_id, user_id, phone, niche, 'retry', 'webhook', clock_timestamp() from leads where phone is not null order by random() limit 1`);
        await writer.query(`insert into leads (device_id, user_id, phone, name, source, created_at)
          values (999999, 1, '6019' || lpad((${Date.now() % 100000} + ${inserted})::text, 7, '0'), 'fresh', 'webhook', clock_timestamp())`);
        inserted++;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const result = await startCli(clean('--batch-size', '10', '--pause', '20ms')).done;
    writing = false;
    await loop;
    await writer.end();
    expect(result.code, result.stderr).toBe(0);
    expect(inserted).toBeGreaterThan(5);
    // Every removed row was a copy of a keeper that is still there with the same key.
    expect(
      await count(`select * from lead_dedupe.lead_dedupe_removed r
      left join leads k on k.id::text = r.keeper_id and k.device_id = (r.row_data ->> 'device_id')::int and k.phone = r.row_data ->> 'phone'
      where k.id is null`),
    ).toBe(0);
    expect(await count(`select * from lead_dedupe.lead_dedupe_removed where row_data ->> 'name' = 'fresh'`)).toBe(0);
    expect(await count(`select * from leads where name = 'fresh'`)).toBe(inserted);

    const newcomers = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);
    const second = await startCli(clean('--format', 'json')).done;
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout).rowsRemoved).toBe(newcomers.surplus);
    expect((await sqlOracle(test, 'leads', ['device_id', 'phone'], true)).surplus).toBe(0);
  });

  it('two runs at once: one cleans, the other exits 4 naming the holder', async () => {
    const first = startCli(clean('--batch-size', '5', '--pause', '50ms'));
    await waitForBatches(1);
    const second = await startCli(clean()).done;
    const done = await first.done;
    expect(done.code, done.stderr).toBe(0);
    expect(second.code).toBe(4);
    expect(second.stderr).toMatch(
      /^lead-dedupe: another lead-dedupe run holds the lock on public\.leads: run 1 \(started .* by postgres from .*\); pid \d+, user postgres/,
    );
    expect(second.stdout).toBe('');
  });

  it('SIGINT stops after the current batch, prints the summary and exits 130', async () => {
    const before = await count('select * from leads');
    const run = startCli(clean('--batch-size', '5', '--pause', '100ms'));
    await waitForBatches(2);
    run.child.kill('SIGINT');
    const stopped = await run.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain('stopping after the current batch');
    expect(stopped.stdout).toMatch(/clean run 1 on public\.leads by device-phone \(keep oldest, mode merge\): interrupted/);
    const [record] = await test.query<{ status: string; rows_removed: string; batches_done: number }>(
      'select status, rows_removed, batches_done from lead_dedupe.lead_dedupe_runs',
    );
    expect(record!.status).toBe('interrupted');
    expect(stopped.stdout).toContain(`Interrupted after ${record!.batches_done} of`);
    expect(stopped.stdout).toMatch(/Left: \d+ groups in \d+ batches, not cleaned; rerun the same clean to continue\./);
    const archived = await count('select * from lead_dedupe.lead_dedupe_removed');
    expect(archived).toBe(Number(record!.rows_removed));
    expect((await count('select * from leads')) + archived).toBe(before);
  });

  it('a user without DELETE, or without the right to create the archive schema, gets a clear error and nothing changes', async () => {
    const role = `ld_role_${randomBytes(4).toString('hex')}`;
    const database = new URL(url).pathname.slice(1);
    await test.exec(`create role ${role} login;
grant select, update on leads, lead_activities to ${role};
`);
    try {
      const asRole = new URL(url);
      asRole.username = role;
      const before = `${await checksum('leads')} ${await checksum('lead_activities')}`;
      const noDelete = await startCli(['clean', '--database', asRole.toString(), '--key', 'device-phone', '--execute']).done;
      expect(noDelete.code).toBe(2);
      expect(noDelete.stderr).toBe(
        `lead-dedupe: database user ${role} lacks DELETE on public.leads, CREATE on the database, to create the archive schema lead_dedupe (or create it for this user first); nothing was changed\n`,
      );
      await test.exec(`grant delete on leads to ${role};\n`);
      const noSchema = await startCli(['clean', '--database', asRole.toString(), '--key', 'device-phone', '--execute']).done;
      expect(noSchema.code).toBe(2);
      expect(noSchema.stderr).toContain('lacks CREATE on the database, to create the archive schema lead_dedupe');
      expect(`${await checksum('leads')} ${await checksum('lead_activities')}`).toBe(before);
      expect(await count(`select * from pg_namespace where nspname = 'lead_dedupe'`)).toBe(0);
      // the dry run still works for this user, and says what --execute would lack
      const dry = await startCli(['clean', '--database', asRole.toString(), '--key', 'device-phone']).done;
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toContain('--execute would stop: this user lacks CREATE on the database');
    } finally {
      await test.exec(`revoke all on leads, lead_activities from ${role};
revoke all on database ${database} from ${role};
drop owned by ${role};
drop role ${role};
`);
    }
  });

  it('an archive from before merged_data, owned by someone else, stops --execute with exit 2 before any change', async () => {
    const role = `ld_role_${randomBytes(4).toString('hex')}`;
    const database = new URL(url).pathname.slice(1);
    const first = await startCli(['clean', '--database', url, '--key', 'device-phone', '--execute', '--max-groups', '1']).done;
    expect(first.code, first.stderr).toBe(0);
    await test.exec(`alter table lead_dedupe.lead_dedupe_keepers drop column merged_data;
create role ${role} login;
grant select, update, delete on leads, lead_activities to ${role};
grant usage on schema lead_dedupe to ${role};
grant select, insert, update on all tables in schema lead_dedupe to ${role};
grant temp on database ${database} to ${role};
`);
    try {
      const asRole = new URL(url);
      asRole.username = role;
      const before = `${await checksum('leads')} ${await checksum('lead_activities')}`;
      const stopped = await startCli(['clean', '--database', asRole.toString(), '--key', 'device-phone', '--execute']).done;
      expect(stopped.code).toBe(2);
      expect(stopped.stderr).toBe(
        `lead-dedupe: database user ${role} lacks ownership of lead_dedupe.lead_dedupe_keepers, to add its merged_data column (an archive from an older version; or add it as its owner: alter table … add column merged_data jsonb); nothing was changed\n`,
      );
      expect(`${await checksum('leads')} ${await checksum('lead_activities')}`).toBe(before);
    } finally {
      await test.exec(`drop owned by ${role};
drop role ${role};
`);
    }
  });

  it('a run stopped by a lock another session holds says where, on what, and what is left (text and JSON), never "Nothing to clean" or "batch 1 of 0"', async () => {
    const before = `${await checksum('leads')} ${await checksum('lead_activities')}`;
    const [oracle] = await test.query<{ groups: string }>(
      'select count(*) as groups from (select 1 from leads where device_id is not null and phone is not null group by device_id, phone having count(*) > 1) g',
    );
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      // the whole table locked: the staging cannot read it
      await holder.query('begin');
      await holder.query('lock table leads in access exclusive mode');
      const staging = await startCli([...clean('--lock-timeout', '200ms')]).done;
      const stagingJson = await startCli([...clean('--lock-timeout', '200ms', '--format', 'json')]).done;
      await holder.query('rollback');
      expect(staging.code).toBe(1);
      expect(staging.stdout).not.toMatch(/Nothing to clean| of 0\b/);
      expect(staging.stdout).toMatch(
        /Failed while staging the duplicate groups \(before any batch\): could not lock public\.leads within\s+--lock-timeout 200 ms/,
      );
      expect(staging.stdout).toContain('Left: every duplicate group; rerun the same clean.');
      expect(staging.stdout).toMatch(/Run \d+ changed nothing; nothing to undo\./);
      expect(staging.stderr).toMatch(
        /^lead-dedupe: staging the duplicate groups failed: could not lock public\.leads within --lock-timeout 200 ms .*; nothing was changed, rerun later\n$/,
      );
      expect(stagingJson.code).toBe(1);
      expect(JSON.parse(stagingJson.stdout)).toMatchObject({ status: 'failed', batchesDone: 0, stop: { staged: false, batch: null } });

      // every duplicate row locked: the first batch times out
      await holder.query('begin');
      await holder.query(`select id from leads where (device_id, phone) in (select device_id, phone from leads group by 1, 2 having count(*) > 1) for update`);
      const batch = await startCli([...clean('--lock-timeout', '200ms', '--retries', '0', '--format', 'json')]).done;
      await holder.query('rollback');
      expect(batch.code).toBe(1);
      const result = JSON.parse(batch.stdout);
      expect(result).toMatchObject({
        status: 'failed',
        batchesDone: 0,
        rowsRemoved: 0,
        // the holder is named when the tool's lock-wait probe saw it within the 200 ms
        stop: {
          staged: true,
          batch: 1,
          error: expect.stringMatching(/^could not lock its rows within --lock-timeout 200 ms(, held by pid \d+ .*)?$/),
          groupsLeft: Number(oracle!.groups),
        },
      });
      expect(result.stop.batchesLeft).toBe(result.batches);
    } finally {
      await holder.end();
    }
    expect(`${await checksum('leads')} ${await checksum('lead_activities')}`).toBe(before);
  });

  it('a batch whose rows stay locked by a writer is retried with backoff, then the run stops cleanly; a rerun finishes', async () => {
    const table = await loadLeadTable(test.database.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' });
    const [key] = resolveKeys(table, ['device-phone'], { columnMap: {}, normalize: {}, defaultCountry: null, nullsEqual: false, customKeys: [] }).keys;
    const options = { ...resolveCleanOptions(key!, { mergeRule: [] }), batchSize: 50, lockTimeoutMs: 200, retries: 2 };
    const oracle = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);
    // A writer holds a lock on a row of the second batch (groups 51-100 in key order) and does not let go.
    const writer = new pg.Client({ connectionString: url });
    await writer.connect();
    await writer.query('begin');
    await writer.query(`select id from leads where (device_id, phone) = (select device_id, phone from leads where phone is not null
      group by 1, 2 having count(*) > 1 order by 1, 2 offset 60 limit 1) for update`);
    const writerPid = (await writer.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    const stopped = await applyClean(test.database, options);
    expect(stopped.status).toBe('failed');
    expect(stopped.batchesDone).toBe(1);
    expect(stopped.retries).toBe(2);
    // The holder is named when the lock watch (a look about a quarter second into a wait, then every second) saw it within the 200 ms timeout.
    expect(stopped.stoppedBecause).toMatch(
      new RegExp(
        `^batch 2 of ${stopped.batches} failed 3 times \\(could not lock its rows within --lock-timeout 200 ms(, held by pid ${writerPid} \\(application "[^"]*", idle in transaction: "select pg_backend_pid\\(\\) as pid"\\))?\\); 1 batches are committed and archived, rerun later to continue$`,
      ),
    );
    expect(await count(`select * from lead_dedupe.lead_dedupe_removed where run_id = ${stopped.runId}`)).toBe(stopped.rowsRemoved);
    // The writer lets go during the next run's backoff, so that run's retry goes through. The commit
    // waits for one lock wait to begin and to end (timed out): no timer guesses how long staging takes.
    const next = applyClean(test.database, { ...options, retries: 5 });
    await waitForLockWait(true);
    await waitForLockWait(false);
    await writer.query('commit');
    const finished = await next;
    await writer.end();
    expect(finished.status).toBe('done');
    expect(finished.retries).toBeGreaterThan(0);
    expect(stopped.rowsRemoved + finished.rowsRemoved).toBe(oracle.surplus);
  });
});
