import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { seed } from '../../src/seed/seed.js';
import { assertBuilt, runCli, startInTerminal, type Running } from '../support/cli.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';
import { tableChecksum } from '../support/table-facts.js';

/**
 * A batch or a constraint that waits on a lock, through the built binary on
 * the server: another session ("lock holder") holds the lock. The failure on
 * lock timeout names the holder's pid, application and statement (read with
 * pg_blocking_pids from a session of the tool's own); on a terminal the
 * spinner shows it while the wait lasts, and Ctrl-C during the wait exits
 * 130 at once (the waiting batch has changed nothing and is rolled back).
 */
describe.skipIf(!SERVER_URL)('lock waits (built binary, server)', () => {
  let test: TestDatabase;
  let url: string;
  let holder: pg.Client | null = null;

  beforeAll(async () => {
    assertBuilt();
    test = await TEST_TARGETS.find((t) => t.label === 'postgres')!.open();
    url = test.url!;
  });
  afterAll(async () => test?.close());
  beforeEach(async () => {
    await test.exec('drop schema if exists lead_dedupe cascade');
    await seed(test.database, { table: 'leads', rows: 1000, scenario: 'production', replace: true });
  });

  /** Opens the holder's transaction and runs `statement` in it; returns its pid. */
  async function hold(statement: string): Promise<number> {
    holder = new pg.Client({ connectionString: url, application_name: 'lock holder' });
    await holder.connect();
    const pid = (await holder.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    await holder.query('begin');
    await holder.query(statement); // its last statement: what pg_stat_activity shows of it
    return pid;
  }
  async function release(): Promise<void> {
    await holder?.query('rollback').catch(() => undefined);
    await holder?.end();
    holder = null;
  }
  async function waitForOutput(run: Running, text: string): Promise<void> {
    for (let i = 0; i < 400 && !run.output().includes(text); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(run.output()).toContain(text);
  }

  it('clean --execute: a batch that times out on a lock names the holder (pid, application, statement)', async () => {
    const before = await tableChecksum(test, 'leads');
    try {
      const pid = await hold('lock table leads in exclusive mode');
      const run = await runCli(['clean', '--database', url, '--key', 'device-phone', '--execute', '--lock-timeout', '3s', '--retries', '0']);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        `failed 1 times (could not lock its rows within --lock-timeout 3000 ms, held by pid ${pid} (application "lock holder", idle in transaction: "lock table leads in exclusive mode"))`,
      );
    } finally {
      await release();
    }
    expect(await tableChecksum(test, 'leads')).toBe(before);
  });

  it("constraint add: the final ALTER's lock timeout names the holder (exit 4)", async () => {
    try {
      const pid = await hold('select 1 from leads limit 1');
      const run = await runCli(['constraint', 'add', '--database', url, '--key', 'id,phone', '--even-if-implied', '--lock-timeout', '3s', '--execute']);
      expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 4, stdout: '' });
      expect(run.stderr).toBe(
        `lead-dedupe: ALTER TABLE could not lock public.leads within lock_timeout 3s (held by pid ${pid} (application "lock holder", idle in transaction: "select 1 from leads limit 1")); ` +
          'the unique index "leads_id_phone_key" is built, valid and already rejects duplicates; rerun constraint add to attach it\n',
      );
    } finally {
      await release();
      await test.exec('drop index if exists leads_id_phone_key');
    }
  });

  it.each([
    ['clean --execute', ['clean', '--key', 'device-phone', '--execute', '--lock-timeout', '60s'], 'lock table leads in exclusive mode'],
    ['constraint add', ['constraint', 'add', '--key', 'id,phone', '--even-if-implied', '--lock-timeout', '60s', '--execute'], 'select 1 from leads limit 1'],
    // CREATE INDEX CONCURRENTLY waits for every transaction writing the table
    ['index add', ['index', 'add', '--key', 'device-phone', '--execute'], 'update leads set name = name where id = 1'],
  ] as const)('%s on a terminal: the spinner names the holder while it waits; Ctrl-C then exits 130 at once', async (_name, args, statement) => {
    const before = await tableChecksum(test, 'leads');
    try {
      const pid = await hold(statement);
      const run = startInTerminal([...args, '--database', url], { rows: 24, cols: 400 });
      await waitForOutput(run, `waiting for a lock held by pid ${pid} (application "lock holder", idle in transaction: "${statement}")`);
      const sent = Date.now();
      run.child.stdin!.write('\x03');
      const finished = await run.done;
      expect(finished.code, finished.stdout).toBe(130);
      expect((Date.now() - sent) / 1000).toBeLessThan(10); // not the 60 s lock timeout
    } finally {
      await release();
      await test.exec('drop index if exists leads_id_phone_key; drop index if exists leads_device_id_phone_idx');
    }
    expect(await tableChecksum(test, 'leads')).toBe(before);
  });
});
