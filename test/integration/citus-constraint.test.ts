import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addConstraint } from '../../src/core/constraint/apply-add.js';
import { dropConstraint } from '../../src/core/constraint/drop.js';
import { DuplicatesBlockConstraintError } from '../../src/core/constraint/errors.js';
import { planConstraintAdd } from '../../src/core/constraint/plan-add.js';
import { constraintStatus } from '../../src/core/constraint/status.js';
import { planUpsert } from '../../src/core/constraint/upsert.js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { UsageError } from '../../src/errors.js';
import { distributionText } from '../../src/render/common/distribution-text.js';
import { PRESET_KEYS } from '../../src/keys/presets.js';
import { resolveKeys } from '../../src/keys/resolve-key.js';
import { CITUS_URL, openCitusDatabase, seedDistributedByDevice, seedDistributedById, seedLocal, seedReference } from '../support/citus.js';
import { assertBuilt, runCli } from '../support/cli.js';
import { dedupeDevicePhone, e164Settings, keyFor, plainSettings, runPrinted, uniqueConstraintsOf, uniqueIndexesOf } from '../support/constraint-fixtures.js';
import { sqlOracle } from '../support/oracle.js';
import type { TestDatabase } from '../support/test-database.js';

/**
 * constraint add, status, drop and sql upsert on a Citus cluster. Citus'
 * rule: a unique index on a distributed table must include its distribution
 * column. Keys without it are refused before any work; keys with it are built
 * CONCURRENTLY on every shard and attached; reference and local tables
 * behave as on a single server.
 */
const WITH_DEVICE = ['device-phone', 'device-phone-niche', 'device-user-phone-niche'];

describe.skipIf(!CITUS_URL)('constraint add, status, drop and sql upsert on Citus (cluster)', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await openCitusDatabase();
    await seedDistributedByDevice(test, 'leads', 3000);
    await seedDistributedById(test, 'leads_by_id', 1500);
    await seedReference(test, 'ref_leads', 1000);
    await seedLocal(test, 'local_leads', 1000);
  });
  afterAll(async () => test?.close());

  /** Unique constraints on each shard of a distributed table, read on the workers themselves. */
  async function shardConstraints(table: string, name: string): Promise<number[]> {
    const rows = await test.query<{ result: string }>(
      `select result from run_command_on_shards('${table}', $cmd$select count(*) from pg_constraint where conrelid = '%s'::regclass and contype = 'u' and conname like '${name}%%'$cmd$) order by shardid`,
    );
    return rows.map((row) => Number(row.result));
  }

  async function shardUniqueIndexes(table: string, name: string): Promise<number[]> {
    const rows = await test.query<{ result: string }>(
      `select result from run_command_on_shards('${table}', $cmd$select count(*) from pg_index i join pg_class c on c.oid = i.indexrelid where i.indrelid = '%s'::regclass and i.indisunique and i.indisvalid and c.relname like '${name}%%'$cmd$) order by shardid`,
    );
    return rows.map((row) => Number(row.result));
  }

  /** Indexes by that name on the workers: the shards' and the workers' own copy of the table's definition. */
  async function indexesOnWorkers(name: string): Promise<number> {
    const rows = await test.query<{ result: string }>(
      `select result from run_command_on_workers($cmd$select count(*) from pg_class where relkind = 'i' and relname like '${name}%'$cmd$)`,
    );
    return rows.reduce((sum, row) => sum + Number(row.result), 0);
  }

  it('distributed by device_id: user-phone and phone are refused before any work, with the rule, the column and the keys that include it', async () => {
    for (const keyText of ['user-phone', 'phone']) {
      const key = await keyFor(test.database, 'leads', keyText);
      const error = await planConstraintAdd(test.database, { key }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UsageError);
      const message = (error as Error).message;
      expect(message).toContain('distributed by device_id');
      expect(message).toContain('unique index that includes the distribution column');
      expect(message).toContain(`keys that include device_id: ${WITH_DEVICE.join(', ')}`);
      expect(await uniqueIndexesOf(test, 'leads')).toEqual([expect.objectContaining({ name: 'leads_pkey' })]);
    }
    // sql upsert's ON CONFLICT needs that index: refused the same way
    const upsert = await planUpsert(test.database, { key: await keyFor(test.database, 'leads', 'user-phone'), onDuplicate: 'skip' }).catch((e: unknown) => e);
    expect((upsert as Error).message).toMatch(/^sql upsert refuses key user-phone .*distributed by device_id/);
  });

  it('the binary exits 2 with one line for user-phone, and --print-sql is refused too', async () => {
    assertBuilt();
    for (const extra of [[], ['--print-sql']]) {
      const result = await runCli(['constraint', 'add', '-d', test.url!, '--key', 'user-phone', ...extra]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(/^lead-dedupe: constraint add refuses key user-phone \(user_id, phone\) on public\.leads: .*device_id/);
    }
  });

  it('while duplicates remain, device-phone fails with exit 3 and leaves no index on the coordinator or the workers', async () => {
    const key = await keyFor(test.database, 'leads', 'device-phone');
    const oracle = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);
    const error = await addConstraint(test.database, { key }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DuplicatesBlockConstraintError);
    expect(error).toMatchObject({
      fields: { table: 'public.leads', key: 'device-phone', index: 'leads_device_id_phone_key', groups: oracle.groups, surplus: oracle.surplus },
    });
    expect(oracle.groups).toBeGreaterThan(0);
    expect(await uniqueIndexesOf(test, 'leads')).toEqual([expect.objectContaining({ name: 'leads_pkey' })]);
    expect(await indexesOnWorkers('leads_device_id_phone_key')).toBe(0);
  });

  it('after the dedupe: device-phone is built CONCURRENTLY on every shard, attached, shown by status, enforced across the cluster', async () => {
    await dedupeDevicePhone(test, 'leads');
    const key = await keyFor(test.database, 'leads', 'device-phone');
    const added = await addConstraint(test.database, { key });
    expect(added).toMatchObject({ outcome: 'created', kind: 'constraint', concurrently: true, name: 'leads_device_id_phone_key' });
    expect(await uniqueConstraintsOf(test, 'leads')).toEqual([{ name: 'leads_device_id_phone_key', def: 'UNIQUE (device_id, phone)' }]);
    const shards = await shardConstraints('leads', 'leads_device_id_phone_key');
    expect(shards).toHaveLength(8);
    expect(shards.every((n) => n === 1)).toBe(true);

    const table = await loadLeadTable(test.database.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' });
    const status = await constraintStatus(test.database, { table, keys: resolveKeys(table, [], plainSettings).keys });
    expect(status.distribution).toMatchObject({
      kind: 'distributed',
      column: 'device_id',
      method: 'hash',
      shardCount: 8,
      colocatedChildren: ['public.lead_activities'],
    });
    const byKey = Object.fromEntries(status.keys.map((k) => [k.key.name, k]));
    expect(byKey['device-phone']).toMatchObject({ protectedBy: ['leads_device_id_phone_key'], missingDistributionColumn: null });
    expect(byKey['device-phone-niche']).toMatchObject({ impliedBy: ['leads_device_id_phone_key'], missingDistributionColumn: null });
    expect(byKey['user-phone']).toMatchObject({ protectedBy: [], missingDistributionColumn: 'device_id' });
    expect(byKey.phone).toMatchObject({ protectedBy: [], missingDistributionColumn: 'device_id' });

    const [existing] = await test.query<{ device_id: number; phone: string }>('select device_id, phone from leads where phone is not null limit 1');
    const duplicate = await test
      .query(`insert into leads (device_id, user_id, phone) values (${existing!.device_id}, 1, '${existing!.phone}')`)
      .catch((e: unknown) => e);
    expect((duplicate as { code?: string }).code).toBe('23505');

    // the same add again: nothing to do
    expect(await addConstraint(test.database, { key })).toMatchObject({ outcome: 'exists' });
  });

  it('sql upsert prints the ON CONFLICT that the distributed constraint arbitrates: a repeated call leaves one row', async () => {
    const key = await keyFor(test.database, 'leads', 'device-phone');
    const plan = await planUpsert(test.database, { key, onDuplicate: 'skip', insertColumns: ['device_id', 'user_id', 'phone', 'niche', 'name'] });
    expect(plan.arbiters).toEqual(['leads_device_id_phone_key']);
    expect(plan.sql).toMatch(/on conflict \("device_id", "phone"\) do update/i);
    const values = [990_001, 5, '60129990001', 'Property', 'webhook'];
    const outcome = async () => (await runPrinted<{ outcome: string }>(test.database, plan.sql, values)).map((row) => row.outcome);
    expect(await outcome()).toEqual(['inserted']);
    expect(await outcome()).toEqual(['existed']);
    expect((await test.query<{ n: string }>('select count(*) as n from leads where device_id = 990001'))[0]!.n).toBe('1');
  });

  it('constraint drop removes the constraint from the coordinator and every shard', async () => {
    const table = await loadLeadTable(test.database.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' });
    const dropped = await dropConstraint(test.database, { table, name: 'leads_device_id_phone_key', execute: true });
    expect(dropped).toMatchObject({ executed: true, plan: { name: 'leads_device_id_phone_key', action: 'drop constraint' } });
    expect(await uniqueConstraintsOf(test, 'leads')).toEqual([]);
    expect(await shardConstraints('leads', 'leads_device_id_phone_key')).toEqual(Array(8).fill(0));
    expect(await indexesOnWorkers('leads_device_id_phone_key')).toBe(0);
  });

  it('a normalised key with the distribution column becomes a unique expression index on every shard', async () => {
    // e164 folds spellings: dedupe what it groups first (the seed's variants are '+60 …', '0…' and '00…' forms)
    await test.query(`delete from leads l using leads k
      where k.device_id = l.device_id and right(regexp_replace(k.phone, '[^0-9]', '', 'g'), 9) = right(regexp_replace(l.phone, '[^0-9]', '', 'g'), 9)
        and (k.created_at, k.id) < (l.created_at, l.id)`);
    const key = await keyFor(test.database, 'leads', 'device-phone', e164Settings);
    const added = await addConstraint(test.database, { key });
    expect(added).toMatchObject({ outcome: 'created', kind: 'expression-index', concurrently: true });
    const indexes = await uniqueIndexesOf(test, 'leads');
    expect(indexes.map((i) => [i.name, i.valid])).toEqual([
      [added.name, true],
      ['leads_pkey', true],
    ]);
    expect(await shardUniqueIndexes('leads', added.name)).toEqual(Array(8).fill(1));
    // through the rule's short function, which Citus propagated to the workers with CREATE FUNCTION (the shard builds ran it)
    expect(indexes.find((i) => i.name === added.name)!.def).toContain('lead_dedupe.e164_60_v1(phone)');
  });

  it('distributed by id: every preset is refused with the explanation (none includes id)', async () => {
    for (const preset of PRESET_KEYS) {
      const key = await keyFor(test.database, 'leads_by_id', preset.name);
      const error = await planConstraintAdd(test.database, { key }).catch((e: unknown) => e);
      expect(error, preset.name).toBeInstanceOf(UsageError);
      expect((error as Error).message).toContain('distributed by id');
      expect((error as Error).message).toContain('keys that include id: none of the presets or config keys (or list columns with it, e.g. --key id,…)');
    }
  });

  it('rows left on the coordinator from before distribution: shown by status, and constraint add refuses with the Citus call that removes them', async () => {
    await seedDistributedByDevice(test, 'kept_leads', 500, { keepCoordinatorRows: true });
    await dedupeDevicePhone(test, 'kept_leads');
    const [shell] = await test.query<{ bytes: string }>(`select pg_relation_size('kept_leads') as bytes`);
    expect(Number(shell!.bytes)).toBeGreaterThan(0);
    const key = await keyFor(test.database, 'kept_leads', 'device-phone');
    expect(key.table.info.distribution?.coordinatorLeftoverBytes).toBe(Number(shell!.bytes));
    expect(distributionText(key.table.info.distribution)).toMatch(/the coordinator still holds [0-9.]+ MB of its rows from before it was distributed/);
    const error = await planConstraintAdd(test.database, { key }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain("select truncate_local_data_after_distributing_table('public.kept_leads');");
    // the contrast: Citus itself builds the index on those rows too, and their old duplicates fail it
    const built = await test.query('create unique index kept_probe on kept_leads (device_id, phone)').catch((e: unknown) => e);
    expect((built as { code?: string }).code).toBe('23505');
    await test.query(`select truncate_local_data_after_distributing_table('public.kept_leads')`);
    const after = await keyFor(test.database, 'kept_leads', 'device-phone');
    expect(after.table.info.distribution?.coordinatorLeftoverBytes).toBe(0);
    expect(await addConstraint(test.database, { key: after })).toMatchObject({ outcome: 'created', kind: 'constraint' });
  });

  it.each(['ref_leads', 'local_leads'])('%s: user-phone and device-phone are enforced as on a single server', async (tableName) => {
    await test.query(`delete from ${tableName} l using ${tableName} k
      where k.user_id = l.user_id and k.phone = l.phone and (k.created_at, k.id) < (l.created_at, l.id)`);
    await dedupeDevicePhone(test, tableName);
    for (const keyText of ['user-phone', 'device-phone']) {
      const key = await keyFor(test.database, tableName, keyText);
      expect(missingDistribution(key), keyText).toBe(null);
      expect(await addConstraint(test.database, { key }), keyText).toMatchObject({ outcome: 'created', kind: 'constraint', concurrently: true });
    }
    expect((await uniqueConstraintsOf(test, tableName)).map((c) => c.def)).toEqual(['UNIQUE (device_id, phone)', 'UNIQUE (user_id, phone)']);
    const table = await loadLeadTable(test.database.db, { table: tableName, idColumn: 'id', createdColumn: 'created_at' });
    expect(table.info.distribution).toMatchObject({ kind: tableName === 'ref_leads' ? 'reference' : 'local', column: null });
  });
});

function missingDistribution(key: Awaited<ReturnType<typeof keyFor>>): string | null {
  const info = key.table.info.distribution;
  return info?.kind === 'distributed' ? info.column : null;
}
