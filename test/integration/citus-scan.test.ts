import { PassThrough } from 'node:stream';
import { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportDetails } from '../../src/scan/details.js';
import { diagnose } from '../../src/core/diagnose/diagnose.js';
import { DIAGNOSE_DEFAULTS } from '../../src/core/diagnose/diagnose-settings.js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { scan } from '../../src/scan/scan.js';
import { canScanFromExport } from '../../src/scan/scan-from-export.js';
import type { KeyReport } from '../../src/scan/scan-report.js';
import { PRESET_KEYS } from '../../src/keys/presets.js';
import { resolveKeys, type KeySettings } from '../../src/keys/resolve-key.js';
import { duplicateGroupsQuery } from '../../src/sql/duplicate-groups.js';
import { keyScanWithRowCountQuery } from '../../src/scan/sql/scan-sql.js';
import { CITUS_URL, openCitusDatabase, seedDistributedByDevice, seedDistributedById, seedLocal, seedReference } from '../support/citus.js';
import { assertBuilt, runCli } from '../support/cli.js';
import { exportAndPlainReports, withoutTime } from '../support/details-reports.js';
import { e164Oracle, sqlOracle } from '../support/oracle.js';
import { PLAIN_KEY_SETTINGS } from '../support/table-facts.js';
import type { TestDatabase } from '../support/test-database.js';

/**
 * scan, scan --details and diagnose on a Citus cluster: every figure equals
 * hand-written SQL run on the coordinator, for a table distributed by
 * device_id, one distributed by id, a reference table and a coordinator-local
 * table; and EXPLAIN shows where the GROUP BY runs.
 */
const figuresOf = (key: KeyReport) => ({ groups: key.groups, rowsInGroups: key.rowsInGroups, surplus: key.surplus, largestGroup: key.largestGroup });
const TABLES = ['leads', 'leads_by_id', 'ref_leads', 'local_leads'] as const;

describe.skipIf(!CITUS_URL)('scan, details and diagnose on Citus (cluster)', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await openCitusDatabase();
    await seedDistributedByDevice(test, 'leads', 4000);
    await seedDistributedById(test, 'leads_by_id', 3000);
    await seedReference(test, 'ref_leads', 1500);
    await seedLocal(test, 'local_leads', 1500);
  });
  afterAll(async () => test?.close());

  async function keysOn(table: string, keys: string[] = [], settings: Partial<KeySettings> = {}) {
    const leadTable = await loadLeadTable(test.database.db, { table, idColumn: 'id', createdColumn: 'created_at' });
    return { leadTable, keys: resolveKeys(leadTable, keys, { ...PLAIN_KEY_SETTINGS, ...settings }).keys };
  }

  async function scanWith(table: string, keys: string[] = [], settings: Partial<KeySettings> = {}) {
    const resolved = await keysOn(table, keys, settings);
    return scan(test.database, { table: resolved.leadTable, keys: resolved.keys, top: 3 });
  }

  it.each(TABLES)('%s: every preset equals a hand-written GROUP BY on the coordinator, NULLs distinct and equal', async (table) => {
    for (const nullsEqual of [false, true]) {
      const report = await scanWith(table, [], { nullsEqual });
      expect(report.keys.map((k) => k.name)).toEqual(PRESET_KEYS.map((k) => k.name));
      expect(report.rows).toBe(Number((await test.query<{ n: string }>(`select count(*) as n from ${table}`))[0]!.n));
      for (const preset of PRESET_KEYS) {
        const key = report.keys.find((k) => k.name === preset.name)!;
        expect(figuresOf(key), `${table} ${preset.name} nullsEqual=${nullsEqual}`).toEqual(await sqlOracle(test, table, preset.columns, !nullsEqual));
      }
    }
  });

  it.each(TABLES)("%s with --top 0 (the row count from the first key's own pass on a distributed table): the same figures and row count", async (table) => {
    const settingsTried: Partial<KeySettings>[] = [{}, { nullsEqual: true }, { normalize: { phone: 'e164' }, defaultCountry: 'MY' }];
    for (const settings of settingsTried) {
      const resolved = await keysOn(table, ['phone', 'device-phone', 'user-phone'], settings);
      const report = await scan(test.database, { table: resolved.leadTable, keys: resolved.keys, top: 0 });
      expect(report.rows, `${table} ${JSON.stringify(settings)}`).toBe(Number((await test.query<{ n: string }>(`select count(*) as n from ${table}`))[0]!.n));
      for (const key of report.keys) {
        const columns = PRESET_KEYS.find((preset) => preset.name === key.name)!.columns;
        const oracle =
          settings.normalize === undefined
            ? await sqlOracle(test, table, columns, !settings.nullsEqual)
            : await e164Oracle(test, table, columns, 'phone', 'MY', true);
        expect(figuresOf(key), `${table} ${key.name} ${JSON.stringify(settings)}`).toEqual(oracle);
        expect(key.top).toEqual([]);
      }
    }
  });

  it.each(TABLES)('%s: an index led by the key (index add) changes no figure, top groups and ties included, whole or in parts', async (table) => {
    // Parts (and so the whole run of a key the index reads in key order) apply off the distributed tables only
    const scanKey = async (top: number, parts: number) => {
      const resolved = await keysOn(table, ['device-phone']);
      return { ...(await scan(test.database, { table: resolved.leadTable, keys: resolved.keys, top, parts })), durationMs: 0 };
    };
    const without = [await scanKey(0, 1), await scanKey(25, 1)];
    for (const parts of [1, 2]) expect([await scanKey(0, parts), await scanKey(25, parts)], `${parts} parts, no index`).toEqual(without);
    await test.exec(`create index ${table}_ld_key_idx on ${table} (device_id, phone);`);
    try {
      await test.exec(`analyze ${table};`);
      for (const parts of [1, 2]) expect([await scanKey(0, parts), await scanKey(25, parts)], `${parts} parts, with the index`).toEqual(without);
    } finally {
      await test.exec(`drop index ${table}_ld_key_idx;`);
    }
  });

  it('e164 on the distributed tables matches libphonenumber-js on every preset, NULLs distinct and equal', async () => {
    for (const table of ['leads', 'leads_by_id']) {
      for (const nullsEqual of [false, true]) {
        const report = await scanWith(table, [], { normalize: { phone: 'e164' }, defaultCountry: 'MY', nullsEqual });
        for (const preset of PRESET_KEYS) {
          const key = report.keys.find((k) => k.name === preset.name)!;
          expect(figuresOf(key), `${table} ${preset.name} nullsEqual=${nullsEqual}`).toEqual(
            await e164Oracle(test, table, preset.columns, 'phone', 'MY', !nullsEqual),
          );
        }
      }
    }
  });

  it('the top groups and their oldest ids equal a hand-written query', async () => {
    const [key] = (await scanWith('leads', ['device-phone'])).keys;
    const largest = await test.query<{ device_id: number; phone: string; n: string; ids: string[] }>(`
      select device_id, phone, count(*) as n, (array_agg(id::text order by created_at, id))[1:5] as ids
      from leads where phone is not null group by device_id, phone order by count(*) desc, device_id, phone limit 3`);
    expect(key!.top.map((group) => ({ key: group.key, count: group.count, ids: group.ids.map(String) }))).toEqual(
      largest.map((row) => ({ key: { device_id: row.device_id, phone: row.phone }, count: Number(row.n), ids: row.ids })),
    );
  });

  it('scan --details exports exactly the rows in duplicate groups (COPY through the coordinator)', async () => {
    const { keys } = await keysOn('leads', ['device-phone', 'user-phone']);
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (chunk: Buffer) => chunks.push(chunk));
    const summary = await exportDetails(test.database, keys, sink);
    const lines = Buffer.concat(chunks).toString('utf8').trim().split('\n');
    const devicePhone = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);
    const userPhone = await sqlOracle(test, 'leads', ['user_id', 'phone'], true);
    expect(summary.rowsPerKey).toEqual({ 'device-phone': devicePhone.rowsInGroups, 'user-phone': userPhone.rowsInGroups });
    expect(lines).toHaveLength(1 + devicePhone.rowsInGroups + userPhone.rowsInGroups);
  });

  it.each(['ref_leads', 'local_leads'])(
    "%s: scan --details takes the report from the export's rows, and it is the plain scan's and a hand-written query's, at every --top",
    async (table) => {
      for (const nullsEqual of [false, true]) {
        for (const top of [0, 3, 25]) {
          const { leadTable, keys } = await keysOn(table, ['device-phone'], { nullsEqual });
          const options = { table: leadTable, keys, skippedKeys: [], top };
          const label = `${table} nullsEqual=${nullsEqual} top=${top}`;
          expect(await canScanFromExport(test.database, options), label).toBe(true);
          const { fromExport, plain, rows } = await exportAndPlainReports(test.database, options);
          expect(withoutTime(fromExport), label).toEqual(withoutTime(plain));
          const figures = await sqlOracle(test, table, ['device_id', 'phone'], !nullsEqual);
          expect(figuresOf(fromExport.keys[0]!), label).toEqual(figures);
          expect(rows['device-phone'], label).toBe(figures.rowsInGroups);
          const largest = await test.query<{ device_id: number | null; phone: string | null; n: string; ids: string[] }>(`
            select device_id, phone, count(*) as n, (array_agg(id::text order by created_at, id))[1:5] as ids
            from ${table} ${nullsEqual ? '' : 'where device_id is not null and phone is not null'}
            group by device_id, phone having count(*) > 1 order by count(*) desc, device_id, phone limit ${top}`);
          expect(
            fromExport.keys[0]!.top.map((group) => ({ key: group.key, count: group.count, ids: group.ids.map(String) })),
            label,
          ).toEqual(largest.map((row) => ({ key: { device_id: row.device_id, phone: row.phone }, count: Number(row.n), ids: row.ids })));
        }
      }
    },
  );

  it('the distributed tables keep their own scan path beside a details export (their row count comes from the key pass)', async () => {
    for (const table of ['leads', 'leads_by_id']) {
      const { leadTable, keys } = await keysOn(table, ['device-phone']);
      expect(await canScanFromExport(test.database, { table: leadTable, keys, skippedKeys: [], top: 3 }), table).toBe(false);
    }
  });

  it('diagnose on the distributed table equals diagnose on a coordinator-local copy of the same rows, and its causes add up to the surplus', async () => {
    await test.exec('create table leads_copy as select * from leads;');
    for (const keyText of ['device-phone', 'user-phone']) {
      const reports = [];
      for (const table of ['leads', 'leads_copy']) {
        const { keys } = await keysOn(table, [keyText], { normalize: { phone: 'digits' } });
        const {
          table: _name,
          durationMs: _ms,
          answers: _answers,
          ...report
        } = await diagnose(test.database, {
          key: keys[0]!,
          settings: { ...DIAGNOSE_DEFAULTS, by: 'source' },
          columnMap: {},
        });
        // the server's clock moves between the two runs
        reports.push({ ...report, trend: { ...report.trend, serverNow: '<now>' } });
      }
      expect(reports[0], keyText).toEqual(reports[1]);
      const { race, retry, resubmission, unknown } = reports[0]!.cause;
      // the seed's phones are ASCII: digits normalisation is a plain regexp here
      const digits = "nullif(regexp_replace(phone, '[^0-9]', '', 'g'), '')";
      const columns = keyText === 'device-phone' ? ['device_id', digits] : ['user_id', digits];
      expect(race + retry + resubmission + unknown).toBe((await sqlOracle(test, 'leads', columns, true)).surplus);
    }
  });

  it('the binary shows the placement in scan and constraint status, text and JSON, as pg_dist_partition records it', async () => {
    assertBuilt();
    const [catalog] = await test.query<{ shards: string; colocation: number }>(
      `select (select count(*) from pg_dist_shard where logicalrelid = 'leads'::regclass) as shards,
              (select colocationid from pg_dist_partition where logicalrelid = 'leads'::regclass) as colocation`,
    );
    const children = await test.query<{ name: string }>(
      `select 'public.' || logicalrelid::text as name from pg_dist_partition where colocationid = ${catalog!.colocation} and logicalrelid <> 'leads'::regclass order by 1`,
    );
    const json = await runCli(['scan', '-d', test.url!, '--key', 'device-phone', '--format', 'json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).distribution).toMatchObject({
      kind: 'distributed',
      method: 'hash',
      column: 'device_id',
      shardCount: Number(catalog!.shards),
      colocatedChildren: children.map((c) => c.name),
      coordinatorLeftoverBytes: 0,
    });
    const text = await runCli(['scan', '-d', test.url!, '--key', 'device-phone']);
    expect(text.stdout.split('\n')[1]).toMatch(new RegExp(`^Citus [0-9.-]+: distributed by device_id \\(hash, ${catalog!.shards} shard\\(s\\)\\); co-located`));
    for (const [table, line] of [
      ['ref_leads', 'reference table (a copy on every node)'],
      ['local_leads', "local table on the coordinator, not in Citus' metadata"],
    ]) {
      const status = await runCli(['constraint', 'status', '-d', test.url!, '--table', table!]);
      expect(status.stdout.split('\n')[1]).toMatch(new RegExp(`^Citus [0-9.-]+: ${line!.replace(/[()]/g, '\\$&')}`));
    }
  });

  async function explain(table: string, keyText: string, settings: Partial<KeySettings> = {}): Promise<string> {
    const { keys } = await keysOn(table, [keyText], settings);
    const compiled = duplicateGroupsQuery(keys[0]!).compile(test.database.db);
    const { rows } = await test.database.db.executeQuery<{ 'QUERY PLAN': string }>(
      CompiledQuery.raw(`explain (costs off) ${compiled.sql}`, [...compiled.parameters]),
    );
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  }

  /** The plan above Citus' scan of the shards runs on the coordinator; the plan below "->  Task" runs on a worker, per shard. */
  function split(plan: string): { coordinator: string; worker: string } {
    const task = plan.indexOf('->  Task');
    return { coordinator: plan.slice(0, plan.indexOf('Custom Scan (Citus')), worker: task < 0 ? '' : plan.slice(task) };
  }

  it('EXPLAIN: a key with the distribution column groups on the workers, normalised too; nothing is pulled to the coordinator', async () => {
    for (const settings of [{}, { normalize: { phone: 'e164' as const }, defaultCountry: 'MY' }, { nullsEqual: true }]) {
      for (const keyText of ['device-phone', 'device-user-phone-niche']) {
        const plan = await explain('leads', keyText, settings);
        const { coordinator, worker } = split(plan);
        expect(coordinator, `${keyText} ${JSON.stringify(settings)}:\n${plan}`).not.toMatch(/Aggregate/);
        expect(worker, plan).toMatch(/(Hash|Group)Aggregate[\s\S]*Group Key: .*device_id/);
        expect(worker, plan).toMatch(/Filter: .*count\(\*\) > 1/);
        // the normalisation runs once per row, in the group key: the NULL test stays on the groups, not on the scan (B15)
        expect(worker, plan).not.toMatch(/Seq Scan[^\n]*\n\s*Filter: [^\n]*regexp_replace/);
        expect(plan).not.toMatch(/Distributed Subplan|read_intermediate_result/);
      }
    }
  });

  it('EXPLAIN: --top 0 with the row count groups on the workers, which send only their partial sums; nothing else reaches the coordinator', async () => {
    for (const settings of [{}, { normalize: { phone: 'e164' as const }, defaultCountry: 'MY' }, { nullsEqual: true }]) {
      const { keys } = await keysOn('leads', ['device-phone'], settings);
      const compiled = keyScanWithRowCountQuery(keys[0]!).compile(test.database.db);
      const { rows } = await test.database.db.executeQuery<{ 'QUERY PLAN': string }>(
        CompiledQuery.raw(`explain (costs off) ${compiled.sql}`, [...compiled.parameters]),
      );
      const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
      const { coordinator, worker } = split(plan);
      expect(coordinator, `${JSON.stringify(settings)}:\n${plan}`).toMatch(/^\s*Aggregate\s*$/m);
      expect(coordinator, plan).not.toMatch(/HashAggregate|GroupAggregate/);
      expect(worker, plan).toMatch(/Aggregate[\s\S]*(Hash|Group)Aggregate[\s\S]*Group Key: .*device_id/);
      expect(plan).not.toMatch(/Distributed Subplan|read_intermediate_result/);
    }
  });

  it('EXPLAIN: a key without the distribution column aggregates per shard and merges the counts on the coordinator', async () => {
    for (const [table, keyText] of [
      ['leads', 'user-phone'],
      ['leads', 'phone'],
      ['leads_by_id', 'device-phone'],
    ] as const) {
      const plan = await explain(table, keyText);
      const { coordinator, worker } = split(plan);
      expect(coordinator, `${table} ${keyText}:\n${plan}`).toMatch(/HashAggregate[\s\S]*Filter: \(COALESCE/);
      expect(worker, plan).toMatch(/HashAggregate/);
    }
  });
});
