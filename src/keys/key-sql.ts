import { sql, type RawBuilder } from 'kysely';
import type { LeadTable, ResolvedKey } from './key-definition.js';
import { normalizeExpression } from './normalize.js';

/**
 * SQL fragments derived from a resolved key. Every name here was checked
 * against the catalog and goes through `sql.id`, which quotes it.
 */

/** "schema"."table" */
export function tableRef(table: LeadTable): RawBuilder<unknown> {
  return sql.id(table.info.schema, table.info.name);
}

/**
 * `OFFSET 0` keeps PostgreSQL from inlining a subquery, so normalised key
 * expressions are computed once per row. Citus cannot push a subquery with
 * OFFSET down to the shards: it would pull every row of a distributed table
 * to the coordinator first. There the fence is left out, the workers
 * evaluate the expressions again for the NULL test, and the GROUP BY runs
 * on the shards.
 */
export function expressionFence(table: LeadTable): RawBuilder<unknown> {
  return table.info.distribution?.kind === 'distributed' ? sql`` : sql`offset 0`;
}

export function columnRef(column: string, alias?: string): RawBuilder<unknown> {
  return alias === undefined ? sql.id(column) : sql.id(alias, column);
}

/** The normalised value of each key column, in key order. */
export function keyExpressions(key: ResolvedKey, alias?: string): RawBuilder<unknown>[] {
  return key.columns.map((c) => normalizeExpression(columnRef(c.column, alias), c.normalize, key.callingCode));
}

/**
 * `a = b` for the key column at `index`: a plain column whose type's equality
 * lives outside pg_catalog (citext) names that operator, as GROUP BY uses it;
 * the tool's sessions do not have that schema on their search_path.
 */
export function keyEquals(key: ResolvedKey, index: number, left: RawBuilder<unknown>, right: RawBuilder<unknown>): RawBuilder<unknown> {
  const column = key.columns[index]!;
  const schema = column.normalize === null ? (key.table.info.columns.find((c) => c.name === column.column)?.equalitySchema ?? null) : null;
  return schema === null ? sql`${left} = ${right}` : sql`${left} operator(${sql.id(schema)}.=) ${right}`;
}

/**
 * Which rows can be in a group at all. With NULLs distinct (the default, what
 * a plain UNIQUE enforces) a NULL in any key column puts the row in no group.
 */
export function groupableRows(key: ResolvedKey, alias?: string): RawBuilder<unknown> {
  if (key.nullsEqual) return sql`true`;
  return sql.join(
    keyExpressions(key, alias).map((expression) => sql`${expression} is not null`),
    sql` and `,
  );
}

/**
 * groupableRows over grouped key values (ld_k1, ld_k2, … all set), for a
 * relation that carries them; null with NULLs equal, where every group counts.
 */
export function groupedValuesSet(key: ResolvedKey): RawBuilder<unknown> | null {
  if (key.nullsEqual) return null;
  return sql.join(
    keyAliases(key).map((alias) => sql`${sql.id(alias)} is not null`),
    sql` and `,
  );
}

/** The aliases the grouped key values carry in planned queries: ld_k1, ld_k2, … (unlikely to clash with a table column). */
export function keyAliases(key: ResolvedKey): string[] {
  return key.columns.map((_, index) => `ld_k${index + 1}`);
}

/**
 * A stable id for a group: the md5 of the normalised key values as a JSON
 * array. The same group gets the same id in every run, in `scan --details`
 * and in `clean`'s archive; JSON keeps NULL apart from the text 'null'.
 */
export function groupIdOf(values: RawBuilder<unknown>[]): RawBuilder<string> {
  return groupIdOfKeyValues(sql`jsonb_build_array(${sql.join(values)})`);
}

/** groupIdOf for key values already built as that JSON array. */
export function groupIdOfKeyValues(keyValues: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`md5(${keyValues}::text)`;
}

/**
 * Equality of a row's key with a group's key values. With NULLs equal it
 * compares JSON arrays, which hash (an IS NOT DISTINCT FROM join would not).
 */
export function sameKey(key: ResolvedKey, rowAlias: string, groupAlias: string): RawBuilder<unknown> {
  const row = keyExpressions(key, rowAlias);
  const group = keyAliases(key).map((alias) => sql.id(groupAlias, alias));
  if (key.nullsEqual) return sql`jsonb_build_array(${sql.join(row)}) = jsonb_build_array(${sql.join(group)})`;
  return sql.join(
    row.map((expression, index) => keyEquals(key, index, expression, group[index]!)),
    sql` and `,
  );
}

/**
 * Equality for joining the whole table with a handful of groups (scan's top
 * groups). The hash join keys on the raw columns only; the normalised
 * comparisons, wrapped in IS TRUE so the planner cannot hash on them, run
 * only on rows that already match the raw columns. A key with no raw
 * column, or with NULLs equal, falls back to sameKey.
 */
export function sameKeyForFewGroups(key: ResolvedKey, rowAlias: string, groupAlias: string): RawBuilder<unknown> {
  const hasRawColumn = key.columns.some((c) => c.normalize === null);
  if (key.nullsEqual || !hasRawColumn) return sameKey(key, rowAlias, groupAlias);
  const row = keyExpressions(key, rowAlias);
  const group = keyAliases(key).map((alias) => sql.id(groupAlias, alias));
  return sql.join(
    key.columns.map((column, index) =>
      column.normalize === null ? keyEquals(key, index, row[index]!, group[index]!) : sql`(${row[index]} = ${group[index]}) is true`,
    ),
    sql` and `,
  );
}

/** Oldest first: created time (missing ones last), then the lowest id. */
export function oldestFirst(table: LeadTable, alias?: string): RawBuilder<unknown> {
  const id = columnRef(table.idColumn, alias);
  if (table.createdColumn === null) return sql`${id}`;
  return sql`${columnRef(table.createdColumn, alias)} asc nulls last, ${id} asc`;
}
