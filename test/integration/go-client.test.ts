import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertClient, type UpsertClient } from '../../src/core/client/upsert-client.js';
import { addConstraint } from '../../src/core/constraint/apply-add.js';
import { planUpsert } from '../../src/core/constraint/upsert.js';
import { renderGoClient, type GoDriver } from '../../src/render/sql-upsert/go-client.js';
import { renderGoTest } from '../../src/render/sql-upsert/go-test.js';
import { seed } from '../../src/seed/seed.js';
import { withManyConnections } from '../support/connection-budget.js';
import { keyFor } from '../support/constraint-fixtures.js';
import { goWorkspace, HAVE_GO, type GoWorkspace } from '../support/go-toolchain.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

const run = promisify(execFile);
const CALLS = 50;
const ROUNDS = 5;

/**
 * The generated Go client and its race test, compiled with Debian's Go and
 * drivers and run against a real server: 50 identical concurrent calls per
 * round must store one row and report one Inserted, through lib/pq and pgx v4
 * (database/sql, prepared and simple protocol) and pgx v4 native. pgx v5 is
 * not packaged here: its files are checked with gofmt only.
 */
describe.runIf(SERVER_URL && HAVE_GO)('generated Go client (server, Debian Go toolchain)', () => {
  let test: TestDatabase;
  let go: GoWorkspace;
  let client: UpsertClient;
  let dsn: string;
  const binaries = new Map<GoDriver, string>();

  beforeAll(async () => {
    test = await TEST_TARGETS.find((t) => t.label === 'postgres')!.open();
    await seed(test.database, { table: 'leads', rows: 500, scenario: 'production', replace: false });
    await test.query(`delete from leads l using leads k
      where k.device_id = l.device_id and k.user_id = l.user_id and k.phone = l.phone and k.niche = l.niche and k.id < l.id`);
    const key = await keyFor(test.database, 'leads', 'device-user-phone-niche');
    await addConstraint(test.database, { key });
    const plan = await planUpsert(test.database, { key, onDuplicate: 'skip', insertColumns: ['device_id', 'user_id', 'phone', 'niche', 'name', 'email'] });
    client = upsertClient({ plan, key, db: test.database.db, generatedBy: 'lead-dedupe sql upsert (test)' });
    const url = new URL(test.url!);
    url.searchParams.set('sslmode', 'disable');
    dsn = url.toString();
    go = goWorkspace();
    // compiled one after another into one build cache: the drivers build once
    for (const driver of ['lib-pq', 'pgx-v4-stdlib', 'pgx-v4'] as const) {
      const pkg = `leadrace/${driver.replaceAll('-', '')}`;
      go.writePackage(pkg, {
        'upsert.go': renderGoClient(client, { driver, packageName: 'leads' }),
        'upsert_test.go': renderGoTest(client, { driver, packageName: 'leads' }),
      });
      binaries.set(driver, go.compileTest(pkg));
    }
  }, 240_000);
  afterAll(async () => {
    go?.dispose();
    await test?.close();
  });

  /** Rows, and groups of equal keys that the unique constraint (NULLs distinct) would reject: none may exist. */
  async function leadRows(): Promise<{ rows: number; duplicateGroups: number }> {
    const [row] = await test.query<{ rows: string; groups: string }>(`select (select count(*) from leads) as rows,
      (select count(*) from (select 1 from leads where phone is not null and niche is not null
        group by device_id, user_id, phone, niche having count(*) > 1) g) as groups`);
    return { rows: Number(row!.rows), duplicateGroups: Number(row!.groups) };
  }

  const cases: { driver: GoDriver; label: string; params: Record<string, string> }[] = [
    { driver: 'lib-pq', label: 'lib/pq, text parameters', params: {} },
    { driver: 'lib-pq', label: 'lib/pq, binary_parameters', params: { binary_parameters: 'yes' } },
    { driver: 'pgx-v4-stdlib', label: 'pgx v4 stdlib, prepared statements', params: {} },
    { driver: 'pgx-v4-stdlib', label: 'pgx v4 stdlib, simple protocol', params: { prefer_simple_protocol: 'true' } },
    { driver: 'pgx-v4', label: 'pgx v4 native (pgxpool)', params: {} },
  ];

  for (const { driver, label, params } of cases) {
    it(`${label}: ${ROUNDS} rounds of ${CALLS} concurrent calls store one row and one Inserted each`, async () => {
      const before = await leadRows();
      const url = new URL(dsn);
      for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
      const stdout = await withManyConnections(() =>
        run(binaries.get(driver)!, ['-test.count=1', '-test.v'], {
          env: { ...go.env, LEAD_DEDUPE_TEST_DSN: url.toString(), LEAD_DEDUPE_TEST_CALLS: String(CALLS), LEAD_DEDUPE_TEST_ROUNDS: String(ROUNDS) },
          timeout: 60_000,
        }).then(
          (done) => done.stdout,
          // a failed go test exits 1: its output says why, so the assertion below shows it
          (error: { stdout?: string }) => error.stdout ?? String(error),
        ),
      );
      expect(
        stdout
          .split('\n')
          .filter((line) => /FAIL|PASS|upsert_test|race:/.test(line))
          .slice(0, 12)
          .join('\n'),
      ).toContain('--- PASS: TestUpsertLeadRace');
      expect(stdout).toContain(`race: ${ROUNDS} rounds of ${CALLS} concurrent calls`);
      // the hand-written oracle: no duplicate anywhere, and the test removed the rows it made
      expect(await leadRows()).toEqual({ rows: before.rows, duplicateGroups: 0 });
    }, 90_000);
  }

  it('fill with --retry-on-other-index (a second unique index the arbiter does not cover), pgx v4 native: the client generated with the 23505 retry compiles and passes the race', async () => {
    // device-phone as the arbiter, device-user-phone-niche (wider: covered) and user-phone (not covered) beside it
    await test.query(`delete from leads l using leads k where k.device_id = l.device_id and k.phone = l.phone and k.id < l.id`);
    await test.query(`delete from leads l using leads k where k.user_id = l.user_id and k.phone = l.phone and k.id < l.id`);
    await test.query('create unique index leads_user_phone_key on leads (user_id, phone)');
    const key = await keyFor(test.database, 'leads', 'device-phone');
    await addConstraint(test.database, { key });
    const insertColumns = ['device_id', 'user_id', 'phone', 'niche', 'name', 'email'];
    await expect(planUpsert(test.database, { key, onDuplicate: 'fill', insertColumns })).rejects.toThrow(/leads_user_phone_key/);
    const plan = await planUpsert(test.database, { key, onDuplicate: 'fill', insertColumns, retryOnOtherIndex: true });
    const fill = upsertClient({ plan, key, db: test.database.db, generatedBy: 'lead-dedupe sql upsert (test)' });
    expect(fill.retryUniqueViolation).toBe(true);
    const source = renderGoClient(fill, { driver: 'pgx-v4', packageName: 'leads' });
    expect(source).toContain('case "40001", "40P01", "23505":');
    go.writePackage('leadrace/fill', { 'upsert.go': source, 'upsert_test.go': renderGoTest(fill, { driver: 'pgx-v4', packageName: 'leads' }) });
    const binary = go.compileTest('leadrace/fill');
    const before = await leadRows();
    const stdout = await withManyConnections(() =>
      run(binary, ['-test.count=1', '-test.v'], {
        env: { ...go.env, LEAD_DEDUPE_TEST_DSN: dsn, LEAD_DEDUPE_TEST_CALLS: String(CALLS), LEAD_DEDUPE_TEST_ROUNDS: String(ROUNDS) },
        timeout: 60_000,
      }).then(
        (done) => done.stdout,
        (error: { stdout?: string }) => error.stdout ?? String(error),
      ),
    );
    expect(stdout).toContain('--- PASS: TestUpsertLeadRace');
    expect(await leadRows()).toEqual({ rows: before.rows, duplicateGroups: 0 });
  }, 120_000);

  it('every generated file is gofmt-clean, pgx v5 included (not packaged here: gofmt is its only check)', () => {
    const files: Record<string, string> = {};
    for (const driver of ['pgx-v5', 'pgx-v5-stdlib', 'pgx-v4', 'pgx-v4-stdlib', 'lib-pq'] as const) {
      const name = driver.replaceAll('-', '_');
      files[`${name}.go`] = renderGoClient(client, { driver, packageName: 'leads' });
      files[`${name}_test.go`] = renderGoTest(client, { driver, packageName: 'leads' });
    }
    const dir = go.writePackage('gofmtcheck', files);
    expect(go.gofmtList(dir)).toEqual([]);
  });
});
