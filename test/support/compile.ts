import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, type RawBuilder } from 'kysely';
import type { TableInfo } from '../../src/db/catalog.js';
import type { TableDistribution } from '../../src/db/distribution.js';
import type { DynamicSchema } from '../../src/db/database.js';
import type { LeadTable, ResolvedKey, ResolvedKeyColumn } from '../../src/keys/key-definition.js';

/** Compiles planned SQL without a database, to assert the exact text (kysely's testSql idea). */
const compiler = new Kysely<DynamicSchema>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

export function compileSql(query: RawBuilder<unknown>): { sql: string; parameters: readonly unknown[] } {
  const compiled = query.compile(compiler);
  return { sql: compiled.sql, parameters: compiled.parameters };
}

/** A table as the catalog would describe it, for planner unit tests. */
export function fakeTable(columns: string[], schema = 'public', name = 'leads'): LeadTable {
  const info: TableInfo = {
    schema,
    name,
    oid: 1,
    columns: columns.map((c) => ({ name: c, type: 'text', notNull: false, identity: '', generated: false })),
    distribution: null,
  };
  return { info, idColumn: 'id', createdColumn: columns.includes('created_at') ? 'created_at' : null };
}

/** The same table as a Citus hash-distributed table by `column` (as distribution.ts reads it). */
export function fakeDistributedTable(table: LeadTable, column: string, shardCount = 32): LeadTable {
  const distribution: TableDistribution = {
    citusVersion: '13.2-1',
    kind: 'distributed',
    method: 'hash',
    column,
    shardCount,
    colocatedChildren: [],
    coordinatorLeftoverBytes: 0,
  };
  return { ...table, info: { ...table.info, distribution } };
}

export function fakeKey(table: LeadTable, columns: (string | Partial<ResolvedKeyColumn>)[], extra: Partial<ResolvedKey> = {}): ResolvedKey {
  return {
    name: 'test-key',
    table,
    columns: columns.map((c) =>
      typeof c === 'string' ? { logical: c, column: c, normalize: null } : { logical: c.column!, column: c.column!, normalize: null, ...c },
    ),
    nullsEqual: false,
    callingCode: null,
    defaultCountry: null,
    ...extra,
  };
}
