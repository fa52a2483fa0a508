import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { independentSessions, withSharedSnapshot, type ReadSessions } from '../../src/db/shared-snapshot.js';
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
});
