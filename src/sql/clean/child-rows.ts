import { sql, type RawBuilder } from 'kysely';
import { columnRef, tableRef } from '../../keys/key-sql.js';
import type { ResolvedKey } from '../../keys/key-definition.js';
import type { ChildReference } from '../clean-model.js';
import { TEMP } from '../clean-temp-tables.js';

/** Per batch: the child rows that point at removed leads, re-pointed to their keeper. */

/**
 * The child rows a batch re-points, as a condition on the child (c) and
 * the batch's members (m): every row that references a removed lead.
 * A self-reference (leads.parent_id → leads.id) leaves out rows that are
 * themselves removed (they leave with their archived, original value): in
 * --execute those of this batch (earlier batches' are gone already); in the
 * dry run (`allBatches`), which ranks every batch at once, those of this or
 * an earlier batch (the batch_no each member carries from the stage), so
 * both count the same rows.
 */
export function movedRowsCondition(
  reference: ChildReference,
  idColumn: string,
  allBatches: boolean,
  members: RawBuilder<unknown> = TEMP.members,
): RawBuilder<unknown> {
  // A composite key with a NULL part references nothing (MATCH SIMPLE), so such a row stays; the id alone finds the removed lead.
  const setParts = reference.shared.map((pair) => sql` and ${columnRef(pair.child, 'c')} is not null`);
  const moved = sql`${columnRef(reference.column, 'c')} = m.row_id and m.rank_in_group > 1${sql.join(setParts, sql``)}`;
  if (!reference.self) return moved;
  const sameOrEarlier = allBatches ? sql` and v.batch_no <= m.batch_no` : sql``;
  return sql`${moved}
  and not exists (select 1 from ${members} as v where v.row_id = ${columnRef(idColumn, 'c')} and v.rank_in_group > 1${sameOrEarlier})`;
}

/** The moved rows of one child with their batch member: `from <child> as c join ld_members as m on …`. */
export function movedRowsFrom(
  reference: ChildReference,
  idColumn: string,
  allBatches: boolean,
  members: RawBuilder<unknown> = TEMP.members,
): RawBuilder<unknown> {
  return sql`from ${sql.id(reference.schema, reference.table)} as c
join ${members} as m on ${movedRowsCondition(reference, idColumn, allBatches, members)}`;
}

/**
 * The value a moved row gets: the keeper; for a self-reference, a keeper
 * that referenced a copy of itself gets NULL instead of itself (no
 * self-cycles; the archive keeps the old value, restore puts it back).
 */
export function movedRowValue(reference: ChildReference, idColumn: string): RawBuilder<unknown> {
  return reference.self ? sql`case when ${columnRef(idColumn, 'c')} = m.keeper_id then null else m.keeper_id end` : sql`m.keeper_id`;
}

/**
 * Every column a moved row changes, with its new value: the id column,
 * and a composite key's columns the keeper may not share (`copied`: they
 * take the keeper's value, read through keeperJoin's `k`).
 */
export function movedColumns(reference: ChildReference, idColumn: string): { column: string; value: RawBuilder<unknown> }[] {
  return [
    { column: reference.column, value: movedRowValue(reference, idColumn) },
    ...reference.copied.map((pair) => ({ column: pair.child, value: columnRef(pair.parent, 'k') })),
  ];
}

/**
 * The batch's keepers' rows, read once per batch when a child takes more
 * than the keeper's id (keeperRowsStatement): the child statements then
 * join only the session's tables, as Citus requires of a distributed child.
 */
export const KEEPER_ROWS = sql.id('pg_temp', 'ld_keeper_rows');

export function keeperRowsStatement(key: ResolvedKey): RawBuilder<unknown> {
  return sql`create temporary table ld_keeper_rows on commit drop as
select l.* from ${tableRef(key.table)} as l
where ${columnRef(key.table.idColumn, 'l')} in (select keeper_id from ${TEMP.members})`;
}

/** The keeper's row as `k`, when a moved row takes more than the keeper's id from it; nothing otherwise. */
export function keeperJoin(reference: ChildReference, idColumn: string): RawBuilder<unknown> {
  if (reference.copied.length === 0) return sql``;
  return sql`
join ${KEEPER_ROWS} as k on ${columnRef(idColumn, 'k')} = m.keeper_id`;
}

/** Whether the move changes the child's Citus distribution column (then it moves rows by insert and delete: moveByCopyStatements). */
export function movesAcrossShards(reference: ChildReference, idColumn: string): boolean {
  return reference.distributionColumn !== null && movedColumns(reference, idColumn).some((moved) => moved.column === reference.distributionColumn);
}

/**
 * The move of a child row whose distribution column changes (it goes to
 * another shard): a copy with the new values is inserted, then the
 * original deleted, in the batch's transaction (Citus commits both with
 * two-phase commit). The copy keeps every other column, its id included
 * (OVERRIDING SYSTEM VALUE for an identity id).
 */
export function moveByCopyStatements(reference: ChildReference, idColumn: string): RawBuilder<unknown>[] {
  const child = sql.id(reference.schema, reference.table);
  const changes = movedColumns(reference, idColumn).map(({ column, value }) => sql`${column}::text, ${value}`);
  return [
    sql`insert into ${child} overriding system value
select (jsonb_populate_record(c, jsonb_build_object(${sql.join(changes)}))).*
${movedRowsFrom(reference, idColumn, false)}${keeperJoin(reference, idColumn)}`,
    sql`delete from ${child} as c
using ${TEMP.members} as m
where ${movedRowsCondition(reference, idColumn, false)}`,
  ];
}

/** Re-points one child table's rows from the removed leads to their keeper (archive first: archive-plan.ts). */
export function repointStatement(reference: ChildReference, idColumn: string): RawBuilder<unknown> {
  const assignments = movedColumns(reference, idColumn).map(({ column, value }) => sql`${sql.id(column)} = ${value}`);
  return sql`update ${sql.id(reference.schema, reference.table)} as c
set ${sql.join(assignments)}
from ${TEMP.members} as m${keeperJoin(reference, idColumn)}
where ${movedRowsCondition(reference, idColumn, false)}`;
}

/** The dry run's count over every batch's members at once (`members`: its CTE): exactly the rows --execute re-points, batch by batch. */
export function childRowsToMoveQuery(
  reference: ChildReference,
  idColumn: string,
  members: RawBuilder<unknown> = TEMP.members,
): RawBuilder<{ n: string | number }> {
  return sql`select count(*) as n
${movedRowsFrom(reference, idColumn, true, members)}`;
}
