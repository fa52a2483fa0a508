import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addConstraint } from '../../src/core/constraint/apply-add.js';
import { DuplicatesBlockConstraintError } from '../../src/core/constraint/errors.js';
import { constraintStatus } from '../../src/core/constraint/status.js';
import { planUpsert } from '../../src/core/constraint/upsert.js';
import { UsageError } from '../../src/errors.js';
import { keyFor, runPrinted } from '../support/constraint-fixtures.js';
import { assertBuilt, runCli } from '../support/cli.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/**
 * Item 16: constraint add on a partitioned leads table. On a server the
 * index is made ON ONLY the parent, built CONCURRENTLY per partition and
 * attached; on PGlite (no CONCURRENTLY) one plain CREATE UNIQUE INDEX on the
 * parent does the same. The oracles read pg_index / pg_inherits directly.
 */
describe.each(TEST_TARGETS.filter((t) => t.available))('constraint add on a partitioned table, $label', (target) => {
  let test: TestDatabase;

  /** Three list partitions by niche; the third is itself range-partitioned by device_id (two levels). */
  async function partitionedLeads(table: string, duplicateIn: string | null = null): Promise<void> {
    await test.exec(`drop table if exists ${table};
      create table ${table} (id bigint generated always as identity, device_id int, user_id int, phone text, niche text not null,
        email text, created_at timestamptz not null default now()) partition by list (niche);
      create table ${table}_auto partition of ${table} for values in ('Auto');
      create table ${table}_bank partition of ${table} for values in ('Banking');
      create table ${table}_rest partition of ${table} default partition by range (device_id);
      create table ${table}_rest_lo partition of ${table}_rest for values from (minvalue) to (50);
      create table ${table}_rest_hi partition of ${table}_rest for values from (50) to (maxvalue);
      insert into ${table} (device_id, user_id, phone, niche)
        select g % 100, g, '60' || (100000 + g), (array['Auto', 'Banking', 'Other'])[1 + g % 3] from generate_series(1, 600) as g;`);
    if (duplicateIn !== null) {
      await test.query(
        `insert into ${table} (device_id, user_id, phone, niche) select device_id, user_id, phone, niche from ${table} where niche = '${duplicateIn}' limit 1`,
      );
    }
  }
  const indexCount = async () => Number((await test.query<{ n: string }>('select count(*) as n from pg_index'))[0]!.n);
  /** The parent's unique index, and how many partition indexes hang under it (pg_inherits on indexes, every level). */
  const attached = async (table: string) =>
    test.query<{ name: string; valid: boolean; children: number }>(`
      with recursive tree as (
        select i.indexrelid as idx from pg_index i where i.indrelid = '${table}'::regclass and i.indisunique
        union all
        select inh.inhrelid from pg_inherits inh join tree on inh.inhparent = tree.idx)
      select c.relname as name, i.indisvalid as valid, (select count(*) - 1 from tree)::int as children
      from pg_index i join pg_class c on c.oid = i.indexrelid
      where i.indrelid = '${table}'::regclass and i.indisunique`);

  beforeAll(async () => {
    test = await target.open();
  });
  afterAll(async () => test?.close());

  it('a key without the partition key: exit 2 naming the partition key, nothing built', async () => {
    await partitionedLeads('leads');
    const before = await indexCount();
    const key = await keyFor(test.database, 'leads', 'device_id,phone');
    const error = await addConstraint(test.database, { key }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ exitCode: 2 });
    expect((error as Error).message).toBe(
      'public.leads is partitioned by LIST (niche): a unique index on a partitioned table must contain the partition key; key device_id,phone lacks niche (e.g. --key device_id,phone,niche)',
    );
    const sub = await addConstraint(test.database, { key: await keyFor(test.database, 'leads', 'phone,niche') }).catch((e: unknown) => e);
    expect((sub as Error).message).toBe(
      'its partition public.leads_rest is partitioned by RANGE (device_id): a unique index on a partitioned table must contain the partition key; key phone,niche lacks device_id (e.g. --key phone,niche,device_id)',
    );
    expect(await indexCount()).toBe(before);
  });

  it('a key with the partition keys: the index is built and attached on every partition, status and sql upsert agree, duplicates fail with 23505', async () => {
    await partitionedLeads('leads');
    const key = await keyFor(test.database, 'leads', 'device_id,phone,niche');
    const result = await addConstraint(test.database, { key });
    expect(result).toMatchObject({ outcome: 'created', kind: 'partitioned-index', name: 'leads_device_id_phone_niche_key', attachMs: null });
    // 5 partitions (auto, bank, rest and rest's two) each carry an index attached under the parent's, which is valid.
    expect(await attached('leads')).toEqual([{ name: 'leads_device_id_phone_niche_key', valid: true, children: 5 }]);

    const table = key.table;
    const status = await constraintStatus(test.database, { table, keys: [key] });
    expect(status.keys[0]!.protectedBy).toEqual(['leads_device_id_phone_niche_key']);

    const upsert = await planUpsert(test.database, { key, onDuplicate: 'skip', insertColumns: ['device_id', 'user_id', 'phone', 'niche'] });
    expect(upsert.arbiters).toEqual(['leads_device_id_phone_niche_key']);
    const row = [77, 1, '60999', 'Other'];
    await runPrinted(test.database, upsert.sql, row);
    await runPrinted(test.database, upsert.sql, row);
    expect(await test.query(`select count(*)::int as n from leads where phone = '60999'`)).toEqual([{ n: 1 }]);

    const insert = `insert into leads (device_id, user_id, phone, niche) values (3, 3, '60888', 'Banking')`;
    if (target.label === 'postgres') {
      // Two sessions insert the same lead at once: the second waits for the first, then fails.
      const [a, b] = [new pg.Client({ connectionString: test.url! }), new pg.Client({ connectionString: test.url! })];
      await Promise.all([a.connect(), b.connect()]);
      try {
        await a.query('begin');
        await a.query(insert);
        const second = b.query(insert).then(
          () => null,
          (error: { code?: string }) => error.code,
        );
        await new Promise((resolve) => setTimeout(resolve, 200));
        await a.query('commit');
        expect(await second).toBe('23505');
      } finally {
        await Promise.all([a.end(), b.end()]);
      }
    } else {
      await test.query(insert);
      expect(
        await test.query(insert).then(
          () => null,
          (error: { code?: string }) => error.code,
        ),
      ).toBe('23505');
    }
    expect(await test.query(`select count(*)::int as n from leads where phone = '60888'`)).toEqual([{ n: 1 }]);
  });

  it('a duplicate inside one partition: exit 3, and no index is left behind on the parent or any partition', async () => {
    await partitionedLeads('leads', 'Other');
    const before = await indexCount();
    const key = await keyFor(test.database, 'leads', 'device_id,phone,niche');
    const error = await addConstraint(test.database, { key }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DuplicatesBlockConstraintError);
    expect(error).toMatchObject({
      fields: { table: 'public.leads', key: 'device_id,phone,niche', index: 'leads_device_id_phone_niche_key', groups: 1, surplus: 1 },
      exitCode: 3,
    });
    expect(await indexCount()).toBe(before);
  });

  // The binary opens its own connection: only a server database can be shared with it.
  if (target.label === 'postgres')
    it('through the binary: the refusal is one line and exit 2', async () => {
      assertBuilt();
      await partitionedLeads('leads');
      const result = await runCli(['constraint', 'add', '--key', 'device-phone', '--execute', '--database', test.url!]);
      expect(result).toEqual({
        code: 2,
        stdout: '',
        stderr:
          'lead-dedupe: public.leads is partitioned by LIST (niche): a unique index on a partitioned table must contain the partition key; key device-phone lacks niche (e.g. --key device_id,phone,niche)\n',
      });
    });
});
