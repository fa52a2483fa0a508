import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { serverClientConfig } from '../../src/db/server-client-config.js';
import { parseDatabaseTarget } from '../../src/db/database-target.js';
import { seed, seedTables } from '../../src/seed/seed.js';
import { openOn, type TestDatabase } from './test-database.js';

/**
 * The Citus suites run on a local Citus cluster (a coordinator and workers, see
 * scripts/citus-cluster.sh) when TEST_CITUS_URL names the coordinator's
 * `postgres` database. Each suite gets a database of its own on every node,
 * with the citus extension and the nodes registered in it (Citus keeps its
 * node list, pg_dist_node, per database), dropped on every node afterwards.
 */
export const CITUS_URL = process.env.TEST_CITUS_URL;

// Without TEST_CITUS_URL the suites skip themselves; citus-global-setup.ts says so once per run (and fails under CI).
if (CITUS_URL === undefined && process.env.CI) {
  throw new Error('CI must run the Citus suite: set TEST_CITUS_URL (scripts/citus-cluster.sh start prints it)');
}

interface Node {
  host: string;
  port: number;
}

/** Shards per distributed table in the fixtures: fewer than Citus' default 32 keeps DDL quick on a 2-core machine, more than the workers so a table spans both. */
export const FIXTURE_SHARD_COUNT = 8;

async function onNode<T>(node: Node, database: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const user = new URL(CITUS_URL!).username || 'postgres';
  const client = new pg.Client(await serverClientConfig(`host='${node.host}' port=${node.port} user='${user}' dbname='${database}'`));
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The coordinator (from TEST_CITUS_URL) and the primary workers the cluster's `postgres` database lists. */
async function clusterNodes(): Promise<{ coordinator: Node; workers: Node[] }> {
  const url = new URL(CITUS_URL!);
  const coordinator = { host: url.hostname, port: Number(url.port || 5432) };
  const admin = new pg.Client(await serverClientConfig(CITUS_URL!));
  await admin.connect();
  try {
    const { rows } = await admin.query<{ host: string; port: number }>(
      `select nodename as host, nodeport as port from pg_dist_node where groupid <> 0 and noderole = 'primary' and isactive order by nodeport`,
    );
    if (rows.length === 0) throw new Error(`TEST_CITUS_URL ${CITUS_URL} lists no worker nodes in pg_dist_node`);
    return { coordinator, workers: rows };
  } finally {
    await admin.end();
  }
}

/** A fresh database on every node of the cluster, Citus set up in it; `close()` drops it everywhere. */
export async function openCitusDatabase(): Promise<TestDatabase & { workers: Node[] }> {
  const name = `lead_dedupe_citus_${randomBytes(6).toString('hex')}`;
  const { coordinator, workers } = await clusterNodes();
  const nodes = [coordinator, ...workers];
  // One suite at a time: citus_add_node propagates the role to each worker, and two suites doing so at once
  // collide there ("tuple concurrently updated"). The lock lives in the coordinator's postgres database, which every suite shares.
  await onNode(coordinator, 'postgres', async (lock) => {
    await lock.query(`select pg_advisory_lock(hashtext('lead-dedupe: citus test database setup'))`);
    for (const node of nodes) {
      await onNode(node, 'postgres', (client) => client.query(`create database ${name}`));
      await onNode(node, name, (client) => client.query('create extension citus'));
    }
    await onNode(coordinator, name, async (client) => {
      await client.query('select citus_set_coordinator_host($1, $2)', [coordinator.host, coordinator.port]);
      for (const worker of workers) await client.query('select citus_add_node($1, $2)', [worker.host, worker.port]);
    });
  });
  const url = new URL(CITUS_URL!);
  url.pathname = `/${name}`;
  const test = await openOn(parseDatabaseTarget(url.toString()), url.toString(), async () => {
    for (const node of nodes) await onNode(node, 'postgres', (client) => client.query(`drop database if exists ${name} with (force)`));
  });
  return { ...test, workers };
}

export interface CitusFixture {
  /** e.g. public.leads */
  table: string;
  childTable: string;
  rows: number;
  activities: number;
}

/**
 * The scenario, "seeded on a single server, then distributed": the
 * tool's own seed writes `table` and its activities table on the coordinator
 * (plain local tables), then they are reshaped as Citus requires and
 * distributed by device_id, co-located: primary keys (device_id, id), the
 * child carries device_id and its foreign key becomes (device_id, lead_id) →
 * (device_id, id). The coordinator's copy of the rows is then removed, as
 * Citus advises, unless `keepCoordinatorRows` (a DBA who skipped that step).
 */
export async function seedDistributedByDevice(
  test: TestDatabase,
  table: string,
  rows: number,
  options: { keepCoordinatorRows?: boolean } = {},
): Promise<CitusFixture> {
  const seeded = await seed(test.database, { table, rows, scenario: 'production', replace: false });
  const { leads, activities } = quotedSeedTables(table);
  await test.exec(`alter table ${activities} drop constraint ${childForeignKey(table)};
    alter table ${activities} add column device_id integer;
    update ${activities} a set device_id = l.device_id from ${leads} l where l.id = a.lead_id;
    alter table ${activities} alter column device_id set not null;
    alter table ${leads} drop constraint ${primaryKey(table, 'leads')}, add primary key (device_id, id);
    alter table ${activities} drop constraint ${primaryKey(table, 'activities')}, add primary key (device_id, id);
    select create_distributed_table('${leads}', 'device_id', shard_count => ${FIXTURE_SHARD_COUNT});
    select create_distributed_table('${activities}', 'device_id', colocate_with => '${leads}');
    alter table ${activities} add foreign key (device_id, lead_id) references ${leads} (device_id, id) on delete cascade;
    ${options.keepCoordinatorRows ? '' : dropCoordinatorCopies(leads, activities)}
    analyze ${leads}, ${activities};`);
  return { table: seeded.table, childTable: seeded.childTable, rows: seeded.rows, activities: seeded.activities };
}

/** Seeded, then distributed by id: the activities table is distributed by lead_id, co-located, its foreign key unchanged. */
export async function seedDistributedById(test: TestDatabase, table: string, rows: number): Promise<CitusFixture> {
  const seeded = await seed(test.database, { table, rows, scenario: 'production', replace: false });
  const { leads, activities } = quotedSeedTables(table);
  await test.exec(`alter table ${activities} drop constraint ${childForeignKey(table)};
    alter table ${activities} drop constraint ${primaryKey(table, 'activities')}, add primary key (lead_id, id);
    select create_distributed_table('${leads}', 'id', shard_count => ${FIXTURE_SHARD_COUNT});
    select create_distributed_table('${activities}', 'lead_id', colocate_with => '${leads}');
    alter table ${activities} add foreign key (lead_id) references ${leads} (id) on delete cascade;
    ${dropCoordinatorCopies(leads, activities)}
    analyze ${leads}, ${activities};`);
  return { table: seeded.table, childTable: seeded.childTable, rows: seeded.rows, activities: seeded.activities };
}

/** Seeded, then both tables made reference tables (a full copy on every node). */
export async function seedReference(test: TestDatabase, table: string, rows: number): Promise<CitusFixture> {
  const seeded = await seed(test.database, { table, rows, scenario: 'production', replace: false });
  const { leads, activities } = quotedSeedTables(table);
  await test.exec(`select create_reference_table('${leads}');
    select create_reference_table('${activities}');
    ${dropCoordinatorCopies(leads, activities)}`);
  return { table: seeded.table, childTable: seeded.childTable, rows: seeded.rows, activities: seeded.activities };
}

/** Seeded and left alone: plain tables on the coordinator, not in Citus' metadata. */
export async function seedLocal(test: TestDatabase, table: string, rows: number): Promise<CitusFixture> {
  const seeded = await seed(test.database, { table, rows, scenario: 'production', replace: false });
  return { table: seeded.table, childTable: seeded.childTable, rows: seeded.rows, activities: seeded.activities };
}

/**
 * Distributing a table copies its rows to the shards and leaves the
 * coordinator's own copy on disk until this call, as Citus' notice advises.
 */
function dropCoordinatorCopies(leads: string, activities: string): string {
  return `select truncate_local_data_after_distributing_table('${activities}');
    select truncate_local_data_after_distributing_table('${leads}');`;
}

/** Fixture table names are plain identifiers (leads, leads_by_id): written into the fixture SQL as they are. */
function quotedSeedTables(table: string): { leads: string; activities: string } {
  const tables = seedTables(table);
  if (![tables.schema, tables.leads, tables.activities].every((name) => /^[a-z_][a-z0-9_]*$/.test(name))) {
    throw new Error(`fixture table names must be plain identifiers: ${table}`);
  }
  return { leads: `${tables.schema}.${tables.leads}`, activities: `${tables.schema}.${tables.activities}` };
}

function primaryKey(table: string, which: 'leads' | 'activities'): string {
  const tables = seedTables(table);
  return `${which === 'leads' ? tables.leads : tables.activities}_pkey`;
}

function childForeignKey(table: string): string {
  return `${seedTables(table).activities}_lead_id_fkey`;
}
