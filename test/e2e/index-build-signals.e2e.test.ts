import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../src/seed/seed.js';
import { assertBuilt, startCli, type Running } from '../support/cli.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/**
 * SIGTERM (cron, systemd) and SIGINT during `constraint add` and `index add`,
 * through the built binary on the server. A session that holds a lock makes
 * the CONCURRENTLY build (or the final ALTER) wait, so the signal always
 * lands mid-statement: the build is cancelled from another session, the
 * invalid index this run created is dropped, and the command exits 130 with
 * one line saying what is left. (Before: SIGTERM ended the process with 143,
 * no message, and left the invalid index.)
 */
describe.skipIf(!SERVER_URL)('a signal during an index build (built binary, server)', () => {
  let test: TestDatabase;
  let url: string;

  beforeAll(async () => {
    assertBuilt();
    test = await TEST_TARGETS.find((t) => t.label === 'postgres')!.open();
    url = test.url!;
    await seed(test.database, { table: 'leads', rows: 2000, scenario: 'production', replace: false });
  });
  afterAll(async () => test?.close());

  async function waitFor(what: string, condition: () => Promise<boolean>, run: Running): Promise<void> {
    for (let i = 0; i < 600; i++) {
      if (await condition()) return;
      if (run.child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out waiting for ${what}; stderr so far: ${(await Promise.race([run.done, Promise.resolve(null)]))?.stderr ?? ''}`);
  }
  /** The binary's backend is waiting on a lock while running a statement that starts with `start`. */
  const waitingIn = async (start: string) =>
    (
      await test.query(
        `select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query ilike '${start}%' and pid <> pg_backend_pid()`,
      )
    ).length > 0;
  const indexState = async (name: string) =>
    (await test.query<{ valid: boolean }>(`select i.indisvalid as valid from pg_index i where i.indexrelid = to_regclass('public.${name}')`))[0]?.valid ??
    'none';
  const constraintsNamed = async (name: string) => (await test.query(`select 1 from pg_constraint where conname = '${name}'`)).length;

  async function holder(statement: string): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: url, application_name: 'lock holder' });
    await client.connect();
    await client.query('begin');
    await client.query(statement);
    return client;
  }

  it.each([
    ['SIGTERM', 'constraint', ['constraint', 'add', '--key', 'id,phone', '--even-if-implied', '--execute'], 'leads_id_phone_key'],
    ['SIGINT', 'constraint', ['constraint', 'add', '--key', 'id,phone', '--even-if-implied', '--execute'], 'leads_id_phone_key'],
    ['SIGTERM', 'index', ['index', 'add', '--key', 'device-phone', '--execute'], 'leads_device_id_phone_idx'],
    ['SIGINT', 'index', ['index', 'add', '--key', 'device-phone', '--execute'], 'leads_device_id_phone_idx'],
  ] as const)(
    '%s while %s add waits in CREATE INDEX CONCURRENTLY: build cancelled, its invalid index dropped, exit 130 with one line',
    async (signal, _kind, args, name) => {
      // an open writing transaction: the build creates its (invalid) index, then waits for this transaction to end
      const blocker = await holder(`update leads set name = name where id = (select min(id) from leads)`);
      let released = false;
      try {
        const run = startCli([...args, '--database', url]);
        await waitFor('the build to wait', async () => (await indexState(name)) === false && (await waitingIn('create')), run);
        run.child.kill(signal);
        // the clean-up's DROP INDEX CONCURRENTLY waits for the same transaction (under lock_timeout): end it a moment later
        await new Promise((resolve) => setTimeout(resolve, 700));
        await blocker.query('commit');
        released = true;
        const finished = await run.done;
        expect({ code: finished.code, signal: finished.signal, stdout: finished.stdout }).toEqual({ code: 130, signal: null, stdout: '' });
        expect(finished.stderr).toMatch(
          new RegExp(
            `^lead-dedupe: interrupted by ${signal}: the build of "${name}" was cancelled; the invalid index "${name}" it left was dropped(; nothing is left)?\\n$`,
          ),
        );
        expect(await indexState(name)).toBe('none');
      } finally {
        if (!released) await blocker.query('rollback').catch(() => undefined);
        await blocker.end();
      }
    },
  );

  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s while constraint add waits to attach the finished index: exit 130, one line saying the valid index is left unattached',
    async (signal) => {
      const name = 'leads_id_phone_key';
      // a reader keeps its ACCESS SHARE lock: the build does not wait for it, the final ALTER TABLE does
      const blocker = await holder('select 1 from leads limit 1');
      try {
        const run = startCli(['constraint', 'add', '--key', 'id,phone', '--even-if-implied', '--lock-timeout', '60s', '--execute', '--database', url]);
        await waitFor('the ALTER TABLE to wait', () => waitingIn('alter table'), run);
        run.child.kill(signal);
        const finished = await run.done;
        expect({ code: finished.code, stdout: finished.stdout }).toEqual({ code: 130, stdout: '' });
        expect(finished.stderr).toBe(
          `lead-dedupe: interrupted by ${signal}: the unique index "${name}" had already been built and is valid (it rejects duplicates already) but is not attached as a constraint: ` +
            `rerun constraint add to attach it, or remove it with drop index concurrently if exists "public"."${name}"\n`,
        );
        expect({ index: await indexState(name), constraints: await constraintsNamed(name) }).toEqual({ index: true, constraints: 0 });
      } finally {
        await blocker.query('rollback');
        await blocker.end();
        await test.exec(`drop index if exists ${name}`);
      }
    },
  );
});
