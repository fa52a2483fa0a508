import { sql, type RawBuilder } from 'kysely';
import { columnRef, tableRef } from '../../keys/key-sql.js';
import type { ResolvedKey } from '../../keys/key-definition.js';
import type { BatchScope, ChildReference } from '../model.js';
import { sessionRows, TEMP } from './temp-tables-sql.js';
import { WHOLE_BATCH } from './shard-pin-sql.js';
import { moveByCopyStatements } from './move-by-copy-sql.js';

/** Per batch: the child rows that point at removed leads, re-pointed to their keeper. */

/** Which members a child move joins: the batch's (ld_members) or another set, the dry run's every batch, a shard pin. */
export interface MovedRows {
  /** default ld_members */
  members?: RawBuilder<unknown>;
  /** The dry run, which ranks every batch at once (below). */
  allBatches?: boolean;
  scope?: BatchScope;
}

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
export function movedRowsCondition(reference: ChildReference, idColumn: string, rows: MovedRows = {}): RawBuilder<unknown> {
  const { allBatches = false, members = TEMP.members, scope = WHOLE_BATCH } = rows;
  // A composite key with a NULL part references nothing (MATCH SIMPLE), so such a row stays; the id alone finds the removed lead.
  const setParts = reference.shared.map((pair) => sql` and ${columnRef(pair.child, 'c')} is not null`);
  const moved = sql`${columnRef(reference.column, 'c')} = m.row_id and m.rank_in_group > 1${sql.join(setParts, sql``)}${scope.child(reference, 'c')}`;
  if (!reference.self) return moved;
  const sameOrEarlier = allBatches ? sql` and v.batch_no <= m.batch_no` : sql``;
  return sql`${moved}
  and not exists (select 1 from ${members} as v where v.row_id = ${columnRef(idColumn, 'c')} and v.rank_in_group > 1${sameOrEarlier})`;
}

/** The moved rows of one child with their batch member: `from <child> as c join ld_members as m on …`. */
export function movedRowsFrom(reference: ChildReference, idColumn: string, rows: MovedRows = {}): RawBuilder<unknown> {
  return sql`from ${sql.id(reference.schema, reference.table)} as c
join ${rows.members ?? TEMP.members} as m on ${movedRowsCondition(reference, idColumn, rows)}`;
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
 * take the keeper's value, carried by membersWithKeepers' `m`).
 */
export function movedColumns(reference: ChildReference, idColumn: string): { column: string; value: RawBuilder<unknown> }[] {
  return [
    { column: reference.column, value: movedRowValue(reference, idColumn) },
    ...reference.copied.map((pair) => ({ column: pair.child, value: sql`m.${sql.id(keeperValue(pair.parent))}` })),
  ];
}

/**
 * The batch's members as `m`, each with its keeper's values of the columns
 * a moved row takes from it (`m."ld_keeper_<column>"`), when there are any;
 * else the members as they are. One subquery of session tables: Citus
 * joins a distributed child only to such a subquery, never to two local
 * tables directly.
 */
export function membersWithKeepers(reference: ChildReference, idColumn: string, members: RawBuilder<unknown> = TEMP.members): RawBuilder<unknown> {
  if (reference.copied.length === 0) return members;
  return members === TEMP.members ? MEMBERS_WITH_KEEPERS : keeperValuesQuery([reference], idColumn, members);
}

/** The batch's members with their keepers' values, materialised once per batch (their keepers are locked) when some child copies them. */
export const MEMBERS_WITH_KEEPERS = sql.id('pg_temp', 'ld_members_keepers');

export function membersWithKeepersStatements(key: ResolvedKey, references: ChildReference[]): RawBuilder<unknown>[] {
  return [
    sql`create temporary table ld_members_keepers on commit drop as
${keeperValuesQuery(references, key.table.idColumn, TEMP.members, tableRef(key.table))}`,
    sql`create index on ${MEMBERS_WITH_KEEPERS} (row_id)`,
  ];
}

/** After skipped groups leave ld_members, they leave ld_members_keepers too (nothing of them moves). */
export function dropSkippedKeepersStatement(): RawBuilder<unknown> {
  return sql`delete from ${MEMBERS_WITH_KEEPERS} where group_id in (select group_id from ${TEMP.skipped})`;
}

function keeperValuesQuery(
  references: ChildReference[],
  idColumn: string,
  members: RawBuilder<unknown>,
  leads: RawBuilder<unknown> = sql.id(references[0]!.parent.schema, references[0]!.parent.table),
): RawBuilder<unknown> {
  const parents = [...new Set(references.flatMap((reference) => reference.copied.map((pair) => pair.parent)))];
  const values = parents.map((parent) => sql`${columnRef(parent, 'k')} as ${sql.id(keeperValue(parent))}`);
  return sql`(select m.*, ${sql.join(values)} from ${members} as m join ${leads} as k on ${columnRef(idColumn, 'k')} = m.keeper_id)`;
}

function keeperValue(parentColumn: string): string {
  return `ld_keeper_${parentColumn}`;
}

/** Whether the move changes the child's Citus distribution column (then it moves rows by insert and delete: move-by-copy-sql.ts). */
export function movesAcrossShards(reference: ChildReference, idColumn: string): boolean {
  return reference.distributionColumn !== null && movedColumns(reference, idColumn).some((moved) => moved.column === reference.distributionColumn);
}

/** Clean's move across Citus shards (move-by-copy-sql.ts): each moved row to its keeper. */
export function moveToKeeperByCopyStatements(reference: ChildReference, idColumn: string): RawBuilder<unknown>[] {
  const members = membersWithKeepers(reference, idColumn);
  return moveByCopyStatements({
    child: sql.id(reference.schema, reference.table),
    from: members,
    rows: movedRowsCondition(reference, idColumn, { members }),
    distribution: reference.distributionColumn!,
    values: movedColumns(reference, idColumn),
    returnedAs: 'ld_new',
  });
}

/** Re-points one child table's rows from the removed leads to their keeper (archive first: archive-batch-sql.ts). */
export function repointStatement(reference: ChildReference, idColumn: string, scope: BatchScope = WHOLE_BATCH): RawBuilder<unknown> {
  const assignments = movedColumns(reference, idColumn).map(({ column, value }) => sql`${sql.id(column)} = ${value}`);
  return sql`update ${sql.id(reference.schema, reference.table)} as c
set ${sql.join(assignments)}
from ${sessionRows(membersWithKeepers(reference, idColumn))} as m
where ${movedRowsCondition(reference, idColumn, { scope })}`;
}

/** The dry run's count over every batch's members at once (`members`: its CTE): exactly the rows --execute re-points, batch by batch. */
export function childRowsToMoveQuery(
  reference: ChildReference,
  idColumn: string,
  members: RawBuilder<unknown> = TEMP.members,
): RawBuilder<{ n: string | number }> {
  return sql`select count(*) as n
${movedRowsFrom(reference, idColumn, { allBatches: true, members })}`;
}
