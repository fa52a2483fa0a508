import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatabaseTarget } from '../../src/db/database-target.js';
import type { Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/with-database.js';
import { ownClustersAvailable } from '../support/own-cluster.js';
import { PGBOUNCER, startPgBouncer, type PgBouncer } from '../support/pgbouncer.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

if (PGBOUNCER === null && process.env.CI) throw new Error('CI must run the PgBouncer suite: install pgbouncer (.ci/run does)');

/**
 * Database.cancel through PgBouncer (session pooling, as Debian ships it):
 * the cancel request carries the key PgBouncer gave the client, and PgBouncer
 * forwards it to the server session it assigned; the tool's session settings
 * hold although PgBouncer drops the start-up options; the lock-wait probe names
 * blockers by the server's process ids, not PgBouncer's. Sent and closed at once
 * (before this suite), PgBouncer 1.18 exited with "bad client state", taking
 * every client's connection with it; the tool now waits for the close.
 */
describe.runIf(SERVER_URL !== undefined && PGBOUNCER !== null && ownClustersAvailable())('cancelling through PgBouncer', () => {
  let test: TestDatabase;
  let bouncer: PgBouncer;
  let bounced: Database | null = null;
  const bouncerUrl = () => bouncer.url(test.url!);

  beforeAll(async () => {
    test = await TEST_TARGETS.find((t) => t.label === 'postgres')!.open();
    bouncer = await startPgBouncer(SERVER_URL!, { poolMode: 'session', poolSize: 20 });
    bounced = await openDatabase(parseDatabaseTarget(bouncerUrl()), { connections: 2 });
  });
  afterAll(async () => {
    await bounced?.db.destroy();
    bouncer?.stop();
    await test?.close();
  });

  it('stops a 60 s statement, and PgBouncer keeps serving after repeated cancels (as the interrupt handler sends them)', async () => {
    const database = bounced!;
    const running = sql`select pg_catalog.pg_sleep(60)`.execute(database.db).then(
      () => null,
      (error: unknown) => error,
    );
    for (let tries = 0; ; tries++) {
      const [active] = await test.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where state = 'active' and query like '%pg_sleep(60)%' and pid <> pg_backend_pid()`,
      );
      if (active!.n === 1) break;
      if (tries > 100) throw new Error('the statement never started');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const started = performance.now();
    for (let i = 0; i < 5; i++) await database.cancel!();
    expect(await running).toMatchObject({ code: '57014' });
    expect(performance.now() - started).toBeLessThan(20_000);
    // PgBouncer is still up: a new client gets through it
    const client = new pg.Client({ connectionString: bouncerUrl() });
    await client.connect();
    try {
      expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end();
    }
    expect(bouncer.log()).not.toContain('FATAL');
  });

  it("keeps the tool's session settings although PgBouncer drops the start-up options that carry them", async () => {
    const timed = await openDatabase(parseDatabaseTarget(bouncerUrl()), { connections: 1, statementTimeoutMs: 61_000, lockTimeoutMs: 4_000 });
    try {
      const { rows } = await sql<Record<string, string>>`select current_setting('statement_timeout') as statement, current_setting('lock_timeout') as lock,
        current_setting('jit') as jit`.execute(timed.db);
      expect(rows).toEqual([{ statement: '61s', lock: '4s', jit: 'off' }]);
    } finally {
      await timed.db.destroy();
    }
  });

  it('names the session that blocks one of its statements by its server pid (PgBouncer gives the client a process id of its own)', async () => {
    const database = bounced!;
    await test.exec('create table locked (id int primary key);\ninsert into locked values (1);\n');
    const holder = new pg.Client({ connectionString: test.url!, application_name: 'lock-holder' });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('select * from public.locked for update');
      const holderPid = Number((await holder.query('select pg_backend_pid() as pid')).rows[0].pid);
      const waiting = sql`update public.locked set id = 2`.execute(database.db).then(
        () => null,
        (error: unknown) => error,
      );
      const probe = database.blockers!();
      try {
        let seen: number[] = [];
        for (let tries = 0; seen.length === 0 && tries < 100; tries++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          seen = (await probe.ask()).map((blocker) => blocker.pid);
        }
        expect(seen).toEqual([holderPid]);
      } finally {
        await probe.close();
      }
      await holder.query('rollback');
      expect(await waiting).toBeNull();
    } finally {
      await holder.end();
    }
  });
});
