import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyClean } from '../../src/clean/apply-clean.js';
import { restoreRun } from '../../src/clean/restore/restore.js';
import { resolveCleanOptions } from '../../src/cli/clean-flags.js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { parseDatabaseTarget } from '../../src/db/database-target.js';
import type { Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/with-database.js';
import { DatabaseError, SharedSessionError } from '../../src/errors.js';
import { resolveKeys } from '../../src/keys/resolve-key.js';
import { seed } from '../../src/seed/seed.js';
import { assertBuilt, runCli } from '../support/cli.js';
import { sqlOracle } from '../support/oracle.js';
import { ownClustersAvailable } from '../support/own-cluster.js';
import { PGBOUNCER, startPgBouncer, type PgBouncer } from '../support/pgbouncer.js';
import { countRows, PLAIN_KEY_SETTINGS, tableChecksum } from '../support/table-facts.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

if (PGBOUNCER === null && process.env.CI) throw new Error('CI must run the PgBouncer suite: install pgbouncer (.ci/run does)');

const REFUSAL = /transaction or statement pooling mode .*connect to PostgreSQL directly, or through session pooling/;

/**
 * The tool's session state (the advisory lock, the temp tables, the pinned
 * search_path and timeouts) lives in one server session. Behind PgBouncer in
 * transaction pooling each transaction may run on another one: the tool
 * refuses a server session another of its sessions set up, and stops a
 * transaction that landed elsewhere before its first statement. Session
 * pooling and a direct connection keep working. Every check of the data is
 * hand-written SQL on a direct connection.
 */
describe.runIf(SERVER_URL !== undefined && PGBOUNCER !== null && ownClustersAvailable())('the tool behind PgBouncer', () => {
  let test: TestDatabase;
  const bouncers: PgBouncer[] = [];
  const opened: Database[] = [];

  beforeAll(async () => {
    assertBuilt();
    test = await TEST_TARGETS.find((t) => t.label === 'postgres')!.open();
  });
  afterAll(async () => {
    for (const database of opened) await database.db.destroy().catch(() => undefined);
    for (const bouncer of bouncers) bouncer.stop();
    await test?.close();
  });
  beforeEach(async () => {
    await test.exec('drop schema if exists lead_dedupe cascade;\n');
    await seed(test.database, { table: 'leads', rows: 1500, scenario: 'production', replace: true });
  });

  async function bouncer(poolMode: 'session' | 'transaction', poolSize: number): Promise<PgBouncer> {
    const started = await startPgBouncer(SERVER_URL!, { poolMode, poolSize });
    bouncers.push(started);
    return started;
  }

  async function open(url: string): Promise<Database> {
    const database = await openDatabase(parseDatabaseTarget(url), { connections: 1 });
    opened.push(database);
    return database;
  }

  async function cleanOptions(database: Database) {
    const table = await loadLeadTable(database.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' });
    const [key] = resolveKeys(table, ['device-phone'], PLAIN_KEY_SETTINGS).keys;
    return { ...resolveCleanOptions(key!, { mergeRule: [] }), mode: 'delete' as const, batchSize: 20, retries: 0, pauseMs: 0 };
  }

  async function removedRows(): Promise<number> {
    const archive = await countRows(test, `select from pg_namespace where nspname = 'lead_dedupe'`);
    return archive === 0 ? 0 : countRows(test, 'select * from lead_dedupe.lead_dedupe_removed');
  }

  describe('in transaction pooling', () => {
    it('one server session for two runs: the second is refused at start (exit 2, one line), and nothing changes', async () => {
      const pool = await bouncer('transaction', 1);
      const url = pool.url(test.url!);
      const before = await tableChecksum(test, 'leads');
      // the first run's session claims the one server session PgBouncer has
      const first = await open(url);
      const second = await runCli(['clean', '--database', url, '--key', 'device-phone', '--execute']);
      expect(second.code).toBe(2);
      expect(second.stderr).toMatch(
        new RegExp(
          `^lead-dedupe: the server session \\(pid \\d+\\) this connection was given already belongs to another client's lead-dedupe session: a pooler in ${REFUSAL.source} \\(PgBouncer pool_mode = session\\)\\n$`,
        ),
      );
      expect(await tableChecksum(test, 'leads')).toBe(before);
      expect(await removedRows()).toBe(0);
      // the first run's session is still its own, with the settings it set up
      const { rows } = await sql<{ path: string }>`select pg_catalog.current_setting('search_path') as path`.execute(first.db);
      expect(rows).toEqual([{ path: 'pg_catalog, pg_temp' }]);
    });

    it("the run's end hands its server session back as a new one: the next client gets no pinned search_path, timeouts or token", async () => {
      const pool = await bouncer('transaction', 1);
      const url = pool.url(test.url!);
      const names = ['search_path', 'statement_timeout', 'lock_timeout', 'jit', 'standard_conforming_strings', 'max_parallel_workers_per_gather'];
      const settingsOf = async (connectionString: string) => {
        const client = new pg.Client({ connectionString });
        await client.connect();
        try {
          const { rows } = await client.query<{ name: string; value: string | null }>(
            `select name, pg_catalog.current_setting(name, true) as value from unnest($1::text[]) as name
             union all select name, nullif(pg_catalog.current_setting(name, true), '') from unnest(array['lead_dedupe.session_token', 'lead_dedupe.user_search_path']) as name`,
            [names],
          );
          return rows;
        } finally {
          await client.end();
        }
      };
      // the oracle: what a new session on the server shows, asked directly
      const fresh = await settingsOf(test.url!);
      // one server session behind the pooler: the tool's sessions set it up (and the second is refused); its end must undo that
      const tool = await open(url);
      expect((await sql<{ path: string }>`select pg_catalog.current_setting('search_path') as path`.execute(tool.db)).rows).toEqual([
        { path: 'pg_catalog, pg_temp' },
      ]);
      await tool.db.destroy();
      expect(await settingsOf(url)).toEqual(fresh);
      await runCli(['scan', '--database', url, '--key', 'device-phone']);
      expect(await settingsOf(url)).toEqual(fresh);
    });

    it("a server session holding another client's temporary tables is refused at start (a stale lead_dedupe_stage could be one)", async () => {
      const pool = await bouncer('transaction', 1);
      const other = new pg.Client({ connectionString: pool.url(test.url!) });
      await other.connect();
      try {
        // autocommit: PgBouncer puts the one server session back in its pool with the table, and resets nothing
        await other.query('create temp table lead_dedupe_stage (id int8)');
      } finally {
        await other.end();
      }
      const refused = await openDatabase(parseDatabaseTarget(pool.url(test.url!)), { connections: 1 }).then(
        () => null,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(SharedSessionError);
      expect((refused as Error).message).toMatch(/^the server session \(pid \d+\) this connection was given already holds another client's temporary tables: /);
    });

    it('the session moves before clean changes anything: it stops before the first change', async () => {
      const pool = await bouncer('transaction', 2);
      const tool = await open(pool.url(test.url!));
      const options = await cleanOptions(tool);
      const before = await tableChecksum(test, 'leads');
      const toolPid = Number((await sql<{ pid: number }>`select pg_catalog.pg_backend_pid() as pid`.execute(tool.db)).rows[0]!.pid);
      // another client takes the tool's server session for an open transaction: the tool's next one gets the other
      const holder = new pg.Client({ connectionString: pool.url(test.url!) });
      await holder.connect();
      try {
        await holder.query('begin');
        expect(Number((await holder.query('select pg_backend_pid() as pid')).rows[0].pid)).toBe(toolPid);
        const stopped = await applyClean(tool, options).then(
          () => null,
          (error: unknown) => error,
        );
        expect(stopped).toBeInstanceOf(SharedSessionError);
        expect((stopped as Error).message).toMatch(new RegExp(`^a transaction landed on server session pid \\d+, not on pid ${toolPid} that the tool set up`));
        expect((stopped as Error).message).toMatch(REFUSAL);
        await holder.query('rollback');
      } finally {
        await holder.end();
      }
      expect(await tableChecksum(test, 'leads')).toBe(before);
      expect(await removedRows()).toBe(0);
    });

    it('the session moves between batches: it stops after the committed batch, says so, and restore brings the table back byte for byte', async () => {
      const pool = await bouncer('transaction', 2);
      const tool = await open(pool.url(test.url!));
      const options = await cleanOptions(tool);
      const before = await tableChecksum(test, 'leads');
      const oracle = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);
      let moved = false;
      const stopped = await applyClean(tool, options, {
        onProgress: ({ batch }) => {
          if (batch !== 1) return;
          // between batch 1 and 2 (the tool's server session is back in PgBouncer's pool): PgBouncer closes its
          // server sessions and opens new ones, as it does when one dies or reaches server_lifetime
          pool.admin('RECONNECT');
          moved = true;
        },
      }).then(
        () => null,
        (error: unknown) => error,
      );
      expect(moved).toBe(true);
      expect(stopped).toBeInstanceOf(DatabaseError);
      const error = stopped as DatabaseError;
      const [run] = await test.query<{ id: number; status: string; message: string }>('select id, status, message from lead_dedupe.lead_dedupe_runs');
      const removed = await countRows(test, `select * from lead_dedupe.lead_dedupe_removed where run_id = ${run!.id}`);
      const left = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);
      expect(removed).toBeGreaterThan(0);
      expect(removed).toBe(oracle.surplus - left.surplus);
      expect(error.message).toMatch(
        new RegExp(
          `^clean run ${run!.id}: batch 2 of \\d+ failed: a transaction landed on server session pid \\d+, not on pid \\d+ .*; it was rolled back, 1 earlier batches are committed and archived; undo them with the restore below$`,
        ),
      );
      expect(error.commands).toEqual([expect.stringMatching(new RegExp(`restore ${run!.id} .*--execute`))]);
      expect(run).toMatchObject({ status: 'failed', message: expect.stringMatching(/^batch 2 of \d+ failed: a transaction landed on server session/) });

      const direct = await open(test.url!);
      await restoreRun(direct, { runId: run!.id, archiveSchema: 'lead_dedupe', execute: true });
      expect(await tableChecksum(test, 'leads')).toBe(before);
    });
  });

  describe('in session pooling', () => {
    it('scan and clean --execute run as on a direct connection, one after the other on the same server sessions', async () => {
      const pool = await bouncer('session', 4);
      const url = pool.url(test.url!);
      const oracle = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);
      const scanned = await runCli(['scan', '--database', url, '--key', 'device-phone', '--format', 'json']);
      expect(scanned).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(scanned.stdout).keys[0]).toMatchObject({ groups: oracle.groups, surplus: oracle.surplus });
      const cleaned = await runCli(['clean', '--database', url, '--key', 'device-phone', '--execute', '--batch-size', '20']);
      expect(cleaned.stderr).toBe('');
      expect(cleaned.code).toBe(0);
      expect((await sqlOracle(test, 'leads', ['device_id', 'phone'], true)).surplus).toBe(0);
      expect(await removedRows()).toBe(oracle.surplus);
    });
  });

  it('a direct connection: two runs side by side each have a server session of their own', async () => {
    const first = await open(test.url!);
    const options = await cleanOptions(first);
    const second = await runCli(['scan', '--database', test.url!, '--key', 'device-phone']);
    expect(second.code).toBe(0);
    const result = await applyClean(first, options);
    expect(result.status).toBe('done');
    expect((await sqlOracle(test, 'leads', ['device_id', 'phone'], true)).surplus).toBe(0);
  });
});
