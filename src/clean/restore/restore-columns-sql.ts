import { sql, type RawBuilder } from 'kysely';
import { archiveRef } from '../sql/archive-sql.js';

/**
 * A restore after a schema change: the archive holds each row as jsonb
 * under the column names of the day of the clean. Restore compares those
 * names with the table now (archivedColumnsQuery) and, for a column renamed
 * since (`restore --map old=new`), reads the archived value under its new
 * name (renamedRow, renamedColumnNames). No rename: the expressions are
 * returned unchanged, so the SQL is the same as before.
 */

/** An archived column name and the column that holds its values now. */
export interface ColumnRename {
  from: string;
  to: string;
}

/**
 * Every column name the run archived: the removed rows' and the merged
 * keepers' (both are whole rows, to_jsonb).
 *
 *   select distinct e.name from (select row_data from "lead_dedupe"."lead_dedupe_removed" where run_id = $1
 *                                union all select row_data from "lead_dedupe"."lead_dedupe_keepers" where run_id = $2) as a
 *   cross join lateral jsonb_object_keys(a.row_data) as e(name) order by 1
 */
export function archivedColumnsQuery(schema: string, runId: number): RawBuilder<{ name: string }> {
  return sql`select distinct e.name
from (select row_data from ${archiveRef(schema, 'lead_dedupe_removed')} where run_id = ${runId}
      union all select row_data from ${archiveRef(schema, 'lead_dedupe_keepers')} where run_id = ${runId}) as a
cross join lateral jsonb_object_keys(a.row_data) as e(name)
order by 1`;
}

/** The renames as a VALUES list (from_name, to_name), each name a bound parameter. */
function renameValues(renames: ColumnRename[]): RawBuilder<unknown> {
  return sql`(values ${sql.join(renames.map((rename) => sql`(${rename.from}::text, ${rename.to}::text)`))}) as ld_rename(from_name, to_name)`;
}

/**
 * An archived row (jsonb) with each renamed key under its new name; keys
 * the row lacks stay absent (merged_data holds only the merged columns),
 * NULL stays NULL.
 *
 *   case when k.row_data is null then null else (select coalesce(jsonb_object_agg(coalesce(ld_rename.to_name, e.key), e.value), '{}'::jsonb)
 *     from jsonb_each(k.row_data) as e left join (values ($1::text, $2::text)) as ld_rename(from_name, to_name) on ld_rename.from_name = e.key) end
 */
export function renamedRow(row: RawBuilder<unknown>, renames: ColumnRename[]): RawBuilder<unknown> {
  if (renames.length === 0) return row;
  return sql`case when ${row} is null then null else (select coalesce(jsonb_object_agg(coalesce(ld_rename.to_name, e.key), e.value), '{}'::jsonb)
  from jsonb_each(${row}) as e left join ${renameValues(renames)} on ld_rename.from_name = e.key) end`;
}

/** An archived list of column names (a keeper's merged_columns) under their names now. */
export function renamedColumnNames(names: RawBuilder<unknown>, renames: ColumnRename[]): RawBuilder<unknown> {
  if (renames.length === 0) return names;
  return sql`array(select coalesce(ld_rename.to_name, x.name) from unnest(${names}) as x(name) left join ${renameValues(renames)} on ld_rename.from_name = x.name)`;
}
