import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addConstraint } from '../../src/core/constraint/apply-add.js';
import { race } from '../../src/core/race/race.js';
import { openDatabase } from '../../src/db/with-database.js';
import type { Database } from '../../src/db/database.js';
import { seed } from '../../src/seed/seed.js';
import { withManyConnections } from '../support/connection-budget.js';
import { keyFor } from '../support/constraint-fixtures.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

const CALLS = 40;
const ROUNDS = 5;
const CHECK = ['device_id', 'user_id', 'phone', 'niche'];

/**
 * `race` on a real server: it must race on a scratch copy, report what the
 * scratch table held, drop it, and leave the user's table as it was. The
 * oracle counts the user's table and the tool's schema by hand before and after.
 */
describe.runIf(SERVER_URL)('race (server)', () => {
  let test: TestDatabase;
  let wide: Database;

  beforeAll(async () => {
    test = await TEST_TARGETS.find((t) => t.label === 'postgres')!.open();
    await seed(test.database, { table: 'leads', rows: 500, scenario: 'production', replace: false });
    wide = await openDatabase(test.target, { connections: CALLS + 1 });
  });
  afterAll(async () => {
    await wide?.db.destroy();
    await test?.close();
  });

  /** The webhook's race with the skip policy, CALLS concurrent calls per round. */
  function raceSkip(key: Awaited<ReturnType<typeof keyFor>>) {
    return withManyConnections(() =>
      race(wide, {
        key,
        checkColumns: CHECK,
        onDuplicate: 'skip',
        insertColumns: [...CHECK, 'name'],
        calls: CALLS,
        rounds: ROUNDS,
        timeLimitMs: 60_000,
        schema: 'lead_dedupe',
      }),
    );
  }

  async function userTable(): Promise<{ rows: number; checksum: string; scratchTables: number }> {
    const [row] = await test.query<{ rows: string; checksum: string; scratch: string }>(`select
      (select count(*) from leads) as rows,
      (select md5(string_agg(l::text, ',' order by id)) from leads l) as checksum,
      (select count(*) from pg_tables where schemaname = 'lead_dedupe' and tablename like 'race\\_%') as scratch`);
    return { rows: Number(row!.rows), checksum: row!.checksum, scratchTables: Number(row!.scratch) };
  }

  it('before the constraint: check-then-insert creates duplicates, the statement fails (no arbiter), not proven; the table is untouched', async () => {
    const before = await userTable();
    const key = await keyFor(wide, 'leads', 'device-user-phone-niche');
    const report = await raceSkip(key);
    const [check, statement] = report.paths;
    expect(check!.rounds).toBe(ROUNDS);
    expect(check!.rowsCreated).toBeGreaterThan(ROUNDS);
    expect(check!.duplicates).toBe(check!.rowsCreated - ROUNDS);
    expect(check!.outcomes.inserted).toBe(check!.rowsCreated);
    // 42P10: there is no unique or exclusion constraint matching the ON CONFLICT specification
    expect(Object.keys(statement!.errors).every((error) => error.startsWith('42P10'))).toBe(true);
    expect(statement!.rowsCreated).toBe(0);
    expect(report.proven).toBe(false);
    expect(report.missingIndex).toEqual({ addCommand: 'lead-dedupe constraint add --key device-user-phone-niche' });
    expect(await userTable()).toEqual({ ...before, scratchTables: 0 });
  }, 120_000);

  it('after dedupe and constraint add: the statement stores one row per round, the scratch table is gone, the table untouched', async () => {
    await test.query(`delete from leads l using leads k
      where k.device_id = l.device_id and k.user_id = l.user_id and k.phone = l.phone and k.niche = l.niche and k.id < l.id`);
    const key = await keyFor(wide, 'leads', 'device-user-phone-niche');
    await addConstraint(wide, { key });
    const before = await userTable();
    const report = await raceSkip(key);
    const statement = report.paths[1]!;
    expect(statement).toMatchObject({ rounds: ROUNDS, calls: CALLS * ROUNDS, rowsCreated: ROUNDS, duplicates: 0, errors: {} });
    expect(statement.outcomes).toEqual({ inserted: ROUNDS, existed: (CALLS - 1) * ROUNDS });
    expect(report.proven).toBe(true);
    expect(report.missingIndex).toBeNull();
    // with the unique index copied, the old path cannot duplicate either: the losers see 23505
    const check = report.paths[0]!;
    expect(check.duplicates).toBe(0);
    expect(await userTable()).toEqual({ ...before, scratchTables: 0 });
  }, 120_000);

  it('refuses PGlite (one session, nothing can race) with a usage error', async () => {
    const pglite = await TEST_TARGETS.find((t) => t.label === 'pglite')!.open();
    try {
      await seed(pglite.database, { table: 'leads', rows: 100, scenario: 'production', replace: false });
      const key = await keyFor(pglite.database, 'leads', 'device-phone');
      await expect(
        race(pglite.database, { key, checkColumns: CHECK, onDuplicate: 'skip', calls: 2, rounds: 1, timeLimitMs: 1000, schema: 'lead_dedupe' }),
      ).rejects.toThrow(/needs a PostgreSQL server/);
    } finally {
      await pglite.close();
    }
  });
});
