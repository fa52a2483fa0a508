import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatabaseTarget } from '../../src/db/database-target.js';
import type { Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/with-database.js';
import { dropRole, SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/**
 * Database.cancel (what SIGINT and SIGTERM use) sends the server's own cancel
 * request, which needs no session: it stops a statement when the role may not
 * open another connection (the pool holds its only one), as when
 * max_connections is reached. The pg_cancel_backend it replaces needed a
 * session of its own and could not.
 */
describe.runIf(SERVER_URL !== undefined)('cancelling a running statement without a free connection slot', () => {
  const role = `ld_cancel_${randomBytes(4).toString('hex')}`;
  let test: TestDatabase;
  let limited: Database | null = null;
  const asRole = () => {
    const url = new URL(test.url!);
    url.username = role;
    return parseDatabaseTarget(url.toString());
  };

  beforeAll(async () => {
    test = await TEST_TARGETS.find((t) => t.label === 'postgres')!.open();
    await test.exec(`create role ${role} login connection limit 1;`);
    limited = await openDatabase(asRole(), { connections: 1 });
  });
  afterAll(async () => {
    await limited?.db.destroy();
    await test?.close();
    await dropRole(role);
  });

  it('stops a 60 s statement within seconds; the pool reconnects afterwards', async () => {
    const database = limited!;
    const started = performance.now();
    const running = sql`select pg_catalog.pg_sleep(60)`.execute(database.db).then(
      () => null,
      (error: unknown) => error,
    );
    // the statement is running once the server shows it (hand-written oracle on the suite's own session)
    for (let tries = 0; ; tries++) {
      const [active] = await test.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where usename = '${role}' and state = 'active' and query like '%pg_sleep(60)%'`,
      );
      if (active!.n === 1) break;
      if (tries > 100) throw new Error('the statement never started');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // a second session for the role is refused: no slot for a cancelling session of its own
    await expect(openDatabase(asRole())).rejects.toThrow(/too many connections/);
    await database.cancel!();
    expect(await running).toMatchObject({ code: '57014' });
    expect(performance.now() - started).toBeLessThan(20_000);
    expect((await sql<{ one: number }>`select 1 as one`.execute(database.db)).rows).toEqual([{ one: 1 }]);
  });
});
