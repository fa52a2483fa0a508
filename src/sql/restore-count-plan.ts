import { sql, type RawBuilder } from 'kysely';
import type { LeadTable } from '../keys/key-definition.js';
import { columnRef, tableRef } from '../keys/key-sql.js';
import { archiveRef } from './archive-plan.js';
import type { MovedTarget } from './restore-plan.js';

/**
 * The restore dry run on a read-only server (a hot standby cannot write even
 * in a transaction that is rolled back): plain SELECTs counting what each
 * statement of restore-plan.ts would change, with the same joins and
 * conditions. No row locks, no writes.
 */

/** Archived rows to put back, and how many of their ids are in the table again (the re-insert would fail on them). */
export function reinsertCountQuery(schema: string, table: LeadTable, runId: number): RawBuilder<{ n: string | number; present: string | number }> {
  return sql`select count(*) as n, count(t.${sql.id(table.idColumn)}) as present
from ${archiveRef(schema, 'lead_dedupe_removed')} as r
cross join lateral jsonb_populate_record(null::${tableRef(table)}, r.row_data) as p
left join ${tableRef(table)} as t on ${columnRef(table.idColumn, 't')} = ${columnRef(table.idColumn, 'p')}
where r.run_id = ${runId}`;
}

/** The keepers restoreKeepersStatement would update: archived keepers still in the table. */
export function keepersToRestoreQuery(schema: string, table: LeadTable, runId: number): RawBuilder<{ n: string | number }> {
  return sql`select count(*) as n
from ${tableRef(table)} as t
where exists (select 1
              from ${archiveRef(schema, 'lead_dedupe_keepers')} as k
              cross join lateral jsonb_populate_record(null::${tableRef(table)}, k.row_data) as p
              where k.run_id = ${runId} and ${columnRef(table.idColumn, 't')} = ${columnRef(table.idColumn, 'p')})`;
}

/** The child rows moveBackStatement would move back: those that still point at the keeper they were moved to. */
export function moveBackCountQuery(schema: string, target: Omit<MovedTarget, 'n'>, runId: number): RawBuilder<{ n: string | number }> {
  const child = sql.id(target.child_schema, target.child_table);
  const pk = target.pk_columns.map((column) => columnRef(column, 'c'));
  return sql`select count(*) as n
from ${child} as c
where exists (select 1
              from ${archiveRef(schema, 'lead_dedupe_moved')} as m
              where m.run_id = ${runId} and m.child_schema = ${target.child_schema} and m.child_table = ${target.child_table}
                and m.column_name = ${target.column_name}
                and jsonb_build_array(${sql.join(pk)}) = m.child_pk
                and to_jsonb(${columnRef(target.column_name, 'c')}) = m.new_value)`;
}
