import { sql, type RawBuilder } from 'kysely';
import { archiveRef } from '../sql/archive-sql.js';
import { textLiteral } from '../../db/literal.js';

/**
 * A run's removed rows from the archive, oldest batch first, each column's
 * value as PostgreSQL stored it in the row's jsonb (text), after the run,
 * batch (counted from 1), group and keeper.
 */
export function removedRowsQuery(archiveSchema: string, runId: number, columns: string[]): RawBuilder<Record<string, unknown>> {
  const values = columns.map((column) => sql`r.row_data ->> ${textLiteral(column)} as ${sql.id(column)}`);
  return sql<Record<string, unknown>>`select r.run_id, r.batch_no + 1 as batch_no, r.group_id, r.keeper_id, ${sql.join(values)}
from ${archiveRef(archiveSchema, 'lead_dedupe_removed')} as r
where r.run_id = ${sql.lit(runId)}
order by r.batch_no, r.group_id, r.row_id`;
}
