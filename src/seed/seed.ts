import { sql } from 'kysely';
import type { Database } from '../db/database.js';
import { toNumber } from '../db/database.js';
import { UsageError } from '../errors.js';
import { tableExists } from '../db/catalog.js';
import { parseTableName } from '../db/table-name.js';
import { requireWritable } from '../db/read-only.js';
import { planSeed, type SeedPlan, type SeedScenario } from './seed-plan.js';
import { createTablesStatements, dropTablesStatements, insertActivitiesStatement, insertLeadsStatement, type SeedTables } from './seed-sql.js';

export interface SeedOptions {
  /** `leads` or `schema.leads`; the child table is `lead_activities` (or `<table>_activities`) beside it. */
  table: string;
  rows: number;
  scenario: SeedScenario;
  /** Drop and recreate the tables if they exist. Without it an existing table is an error. */
  replace: boolean;
}

export interface SeedResult {
  table: string;
  childTable: string;
  rows: number;
  activities: number;
  plan: SeedPlan;
  durationMs: number;
}

/** `leads`, `crm.leads` or `"crm.v2".leads`, read as --table is everywhere (names as written; quotes allow dots). */
export function seedTables(table: string): SeedTables {
  const parsed = parseTableName(table);
  if (parsed === null) throw new UsageError(`--table "${table}" is not a table name: use table or schema.table, with double quotes around a name holding a dot`);
  const schema = parsed.exact.schema ?? 'public';
  const leads = parsed.exact.name;
  return { schema, leads, activities: leads === 'leads' ? 'lead_activities' : `${leads}_activities` };
}

/** Creates and fills the demo tables in one transaction; deterministic for a given row count and scenario. */
export async function seed(database: Database, options: SeedOptions): Promise<SeedResult> {
  requireWritable(database);
  const started = performance.now();
  const plan = planSeed(options.rows, options.scenario);
  const tables = seedTables(options.table);
  await database.db.transaction().execute(async (trx) => {
    if ((await tableExists(trx, tables.schema, tables.leads)) && !options.replace) {
      throw new UsageError(`table ${tables.schema}.${tables.leads} exists; pass --replace to drop and recreate it`);
    }
    for (const statement of [...dropTablesStatements(tables), ...createTablesStatements(tables)]) await statement.execute(trx);
    await insertLeadsStatement(tables, plan).execute(trx);
    await insertActivitiesStatement(tables).execute(trx);
  });
  await sql`analyze ${sql.id(tables.schema, tables.leads)}, ${sql.id(tables.schema, tables.activities)}`.execute(database.db);
  const counts = await sql<{ leads: string; activities: string }>`select
    (select count(*) from ${sql.id(tables.schema, tables.leads)}) as leads,
    (select count(*) from ${sql.id(tables.schema, tables.activities)}) as activities`.execute(database.db);
  return {
    table: `${tables.schema}.${tables.leads}`,
    childTable: `${tables.schema}.${tables.activities}`,
    rows: toNumber(counts.rows[0]?.leads),
    activities: toNumber(counts.rows[0]?.activities),
    plan,
    durationMs: Math.round(performance.now() - started),
  };
}

