import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { independentSessions, withOneConnection, withSharedSnapshot, type ReadSessions } from '../../src/db/shared-snapshot.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

const setting = (sessions: ReadSessions, how: 'run' | 'runSerially') =>
  sessions[how](async (db) => {
    const { rows } = await sql<{ workers: string }>`select current_setting('max_parallel_workers_per_gather') as workers`.execute(db);
    return rows[0]!.workers;
  });

describe.each(TEST_TARGETS.filter((t) => t.available))('read sessions on $label', (target) => {
  let test: TestDatabase;
  let serverDefault: string;

  beforeAll(async () => {
    test = await target.open();
    serverDefault = (await test.query<{ workers: string }>(`select current_setting('max_parallel_workers_per_gather') as workers`))[0]!.workers;
  });
  afterAll(async () => test?.close());

  it('runSerially plans without parallel workers, and the pooled sessions keep the server default afterwards', async () => {
    if (target.label === 'postgres') expect(serverDefault).not.toBe('0');
    const sessions = independentSessions(test.database);
    // PGlite runs no parallel workers and leaves the setting alone; on a server it is 0 for that one statement.
    expect(await setting(sessions, 'runSerially')).toBe(target.label === 'postgres' ? '0' : serverDefault);
    // As many statements at once as the pool has connections: none inherits the setting.
    const after = await Promise.all(Array.from({ length: test.database.features.maxConcurrency }, () => setting(sessions, 'run')));
    expect(new Set(after)).toEqual(new Set([serverDefault]));
  });

  it('inside a shared snapshot too, and the next statement there sees the server default again', async () => {
    await withSharedSnapshot(test.database, async (sessions) => {
      expect(await setting(sessions, 'runSerially')).toBe(target.label === 'postgres' ? '0' : serverDefault);
      expect(await setting(sessions, 'run')).toBe(serverDefault);
    });
  });

  it('one connection: statements asked for at once run one after another on one backend, in one read-only transaction', async () => {
    const seen = await withOneConnection(test.database, (sessions) =>
      Promise.all(
        Array.from({ length: 4 }, (_, index) =>
          sessions.run(async (db) => {
            const { rows } = await sql<{ pid: number; began: string; read_only: string; isolation: string; at: string }>`
              select pg_backend_pid() as pid, now()::text as began, current_setting('transaction_read_only') as read_only,
                     current_setting('transaction_isolation') as isolation, statement_timestamp()::text as at, pg_sleep(${index === 0 ? 0.2 : 0})`.execute(db);
            return rows[0]!;
          }),
        ),
      ),
    );
    if (target.label !== 'postgres') return; // PGlite: one connection, no sessions to tell apart
    expect(new Set(seen.map((row) => row.pid)).size).toBe(1);
    expect(new Set(seen.map((row) => row.began)).size).toBe(1);
    expect(new Set(seen.map((row) => `${row.read_only} ${row.isolation}`))).toEqual(new Set(['on repeatable read']));
    // one after another, in the order asked: the first one's 0.2 s sleep delays the others
    expect(seen.map((row) => row.at)).toEqual([...seen.map((row) => row.at)].sort());
  });
});
