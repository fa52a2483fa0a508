import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportDetails } from '../../src/scan/details.js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { openDatabase } from '../../src/db/with-database.js';
import { resolveKeys } from '../../src/keys/resolve-key.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/**
 * Issue 26 item 9: a database (or role) may set standard_conforming_strings
 * off, where a backslash escapes the quote that ends a literal. Every session
 * the tool opens sets it on, and the one statement that must carry a user
 * string as a literal (the details COPY: the key's name from a config file)
 * quotes it so it means the same under either setting.
 */
const HOSTILE = `it\\'s "quoted" \\ key'); select pg_sleep(5); --`;

describe.each(TEST_TARGETS.filter((t) => t.available))('session settings on $label', (target) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await target.open();
    await test.exec(`create table s_leads (id int primary key, device_id int, phone text, created_at timestamptz);
insert into s_leads select g, g % 5, '0123' || (g % 7), timestamptz '2026-01-01' + g * interval '1 second' from generate_series(1, 80) as g;
`);
    if (target.label === 'postgres') {
      await test.query(`alter database ${new URL(test.url!).pathname.slice(1)} set standard_conforming_strings = off`);
      await test.query(`alter database ${new URL(test.url!).pathname.slice(1)} set search_path = public, pg_catalog`);
    }
  });
  afterAll(async () => test?.close());

  it('every session pins search_path and standard_conforming_strings whatever the database sets; --table still finds public tables', async () => {
    const database = target.label === 'postgres' ? await openDatabase(test.target, { connections: 3 }) : test.database;
    try {
      // three sessions at once on the server: each pooled client is set up
      const rows = await Promise.all(
        [1, 2, 3].map(async () => {
          const { rows } = await sql<{ path: string; scs: string; pid: number }>`select pg_catalog.current_setting('search_path') as path,
            pg_catalog.current_setting('standard_conforming_strings') as scs, pg_catalog.pg_backend_pid() as pid, pg_catalog.pg_sleep(0.05)`.execute(
            database.db,
          );
          return rows[0]!;
        }),
      );
      for (const row of rows) expect(row).toMatchObject({ path: 'pg_catalog, pg_temp', scs: 'on' });
      const table = await loadLeadTable(database.db, { table: 's_leads', idColumn: 'id', createdColumn: 'created_at' });
      expect(table.info.schema).toBe('public');
    } finally {
      if (database !== test.database) await database.db.destroy();
    }
  });

  it('a key name with quotes and backslashes from a config file reaches the details export as data', async () => {
    const database = target.label === 'postgres' ? await openDatabase(test.target, { connections: 2 }) : test.database;
    try {
      if (target.label === 'postgres') {
        // what the database itself would give a session that did not set it (the tool's sessions do)
        const admin = await test.query<{ scs: string }>(`select current_setting('standard_conforming_strings') as scs`);
        expect(admin).toEqual([{ scs: 'on' }]); // test.database is the tool's own session too
      }
      const table = await loadLeadTable(database.db, { table: 's_leads', idColumn: 'id', createdColumn: 'created_at' });
      const settings = {
        columnMap: {},
        normalize: {},
        defaultCountry: null,
        nullsEqual: false,
        customKeys: [{ name: HOSTILE, columns: ['device_id', 'phone'] }],
      };
      const [key] = resolveKeys(table, [HOSTILE], settings).keys;
      const chunks: Buffer[] = [];
      const sink = new Writable({
        write: (chunk, _encoding, done) => {
          chunks.push(Buffer.from(chunk));
          done();
        },
      });
      const started = performance.now();
      const summary = await exportDetails(database, [key!], sink);
      expect(performance.now() - started).toBeLessThan(4000);
      const [oracle] = await test.query<{ n: number }>(`select count(*)::int as n from s_leads l
        where (device_id, phone) in (select device_id, phone from s_leads group by 1, 2 having count(*) > 1)`);
      expect(summary.rowsPerKey[HOSTILE]).toBe(oracle!.n);
      const lines = Buffer.concat(chunks).toString('utf8').trim().split('\n');
      expect(lines).toHaveLength(oracle!.n + 1);
      // csv: the field is quoted and its double quotes doubled
      expect(lines[1]!.startsWith(`"${HOSTILE.replaceAll('"', '""')}",`)).toBe(true);
    } finally {
      if (database !== test.database) await database.db.destroy();
    }
  });
});
