import { sql, type RawBuilder } from 'kysely';
import { columnRef } from '../../keys/key-sql.js';
import type { BatchScope, ChildReference } from '../model.js';
import { TEMP } from './temp-tables-sql.js';
import { membersWithKeepers, movedColumns } from './child-rows-sql.js';
import { WHOLE_BATCH } from './shard-pin-sql.js';

/** Per batch: the groups that must be skipped whole (a child unique index, a NOT NULL self-reference) and why. */

/** Records the groups one skip query (`… from (…) as x`) finds, unless an earlier reason already skipped them. */
function skipStatement(query: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`insert into ${TEMP.skipped} (group_id, reason)
${query}
where not exists (select 1 from ${TEMP.skipped} as s where s.group_id = x.group_id)`;
}

/**
 * Groups whose re-pointing would break a unique index on a child table:
 * after the move every child row of the group carries the keeper's id
 * (and a composite key's values the keeper does not share: its own), so
 * two child rows that agree on the index's other columns collide. Those
 * groups are recorded in ld_skipped; `dropSkippedStatement` then removes
 * them from the batch, so nothing of them changes.
 */
export function childConflictStatements(references: ChildReference[], scope: BatchScope = WHOLE_BATCH): RawBuilder<unknown>[] {
  return childConflictQueries(references, TEMP.members, scope).map(skipStatement);
}

/** One SELECT (group_id, reason) per child unique index, in the order the first reason wins; the rows come `from (…) as x`. */
export function childConflictQueries(references: ChildReference[], members: RawBuilder<unknown>, scope: BatchScope = WHOLE_BATCH): RawBuilder<unknown>[] {
  const queries: RawBuilder<unknown>[] = [];
  for (const reference of references) {
    for (const index of reference.uniqueIndexes) {
      // After the move every child row of the group carries the keeper's id (and, for a composite key, the keeper's values in `copied`).
      const moving = new Set([reference.column, ...reference.copied.map((pair) => pair.child)]);
      const others = index.columns.filter((column) => !moving.has(column));
      const setParts = reference.shared.map((pair) => sql`${columnRef(pair.child, 'c')} is not null`);
      const notNull = index.nullsNotDistinct ? [] : others.map((column) => sql`${columnRef(column, 'c')} is not null`);
      const reason = `unique index ${index.name} on ${reference.schema}.${reference.table} (${index.columns.join(', ')})`;
      queries.push(sql`select distinct x.group_id, ${reason}::text
from (select m.group_id
      from ${sql.id(reference.schema, reference.table)} as c
      join ${members} as m on ${columnRef(reference.column, 'c')} = m.row_id
      where ${sql.join([sql`true`, ...setParts, ...notNull], sql` and `)}${scope.child(reference, 'c')}
      group by ${sql.join([sql`m.group_id`, ...others.map((column) => columnRef(column, 'c'))])}
      having count(*) > 1) as x`);
    }
  }
  return queries;
}

/**
 * A group whose keeper references one of its own copies through a NOT NULL
 * self-reference cannot be cleaned: the keeper would have to become its own
 * parent. Such groups are skipped and reported, like child unique conflicts
 * (after them: the first reason wins).
 */
export function selfParentConflictStatements(references: ChildReference[], idColumn: string): RawBuilder<unknown>[] {
  return selfParentConflictQueries(references, idColumn, TEMP.members).map(skipStatement);
}

/** One SELECT (group_id, reason) per NOT NULL self-reference; the rows come `from (…) as x`. */
export function selfParentConflictQueries(references: ChildReference[], idColumn: string, members: RawBuilder<unknown>): RawBuilder<unknown>[] {
  return references
    .filter((reference) => reference.self && reference.notNull)
    .map((reference) => {
      const reason = `its keeper references a copy of itself through ${reference.table}.${reference.column}, which is NOT NULL: it would become its own parent`;
      return sql`select distinct x.group_id, ${reason}::text
from (select m.group_id
      from ${sql.id(reference.schema, reference.table)} as c
      join ${members} as m on ${columnRef(reference.column, 'c')} = m.row_id
      where m.rank_in_group > 1 and ${columnRef(idColumn, 'c')} = m.keeper_id) as x`;
    });
}

/**
 * A composite key whose moved rows take the keeper's values (`copied`)
 * cannot point at a keeper with NULL in one of them: the row would end up
 * with a NULL part, which references nothing (MATCH SIMPLE), and lose its
 * lead. Such groups are skipped and reported (after the other reasons).
 */
export function keeperKeyConflictStatements(references: ChildReference[], idColumn: string): RawBuilder<unknown>[] {
  return keeperKeyConflictQueries(references, idColumn, TEMP.members).map(skipStatement);
}

/** One SELECT (group_id, reason) per composite key whose moved rows copy the keeper's values; the rows come `from (…) as x`. */
export function keeperKeyConflictQueries(references: ChildReference[], idColumn: string, members: RawBuilder<unknown>): RawBuilder<unknown>[] {
  return references
    .filter((reference) => reference.copied.length > 0)
    .map((reference) => {
      const columns = reference.copied.map((pair) => pair.parent);
      const reason = `its keeper has no ${columns.join(', ')} for ${reference.table} (${reference.constraint}): a moved row would reference nothing`;
      const setParts = reference.shared.map((pair) => sql` and ${columnRef(pair.child, 'c')} is not null`);
      const keeperNull = movedColumns(reference, idColumn)
        .slice(1)
        .map(({ value }) => sql`${value} is null`);
      // DISTINCT inside keeps x a subquery of its own, which Citus plans before the outer NOT EXISTS on a session table.
      return sql`select distinct x.group_id, ${reason}::text
from (select distinct m.group_id
      from ${sql.id(reference.schema, reference.table)} as c
      join ${membersWithKeepers(reference, idColumn, members)} as m on ${columnRef(reference.column, 'c')} = m.row_id and m.rank_in_group > 1${sql.join(setParts, sql``)}
      where ${sql.join(keeperNull, sql` or `)}) as x`;
    });
}

export function dropSkippedStatement(): RawBuilder<unknown> {
  return sql`delete from ${TEMP.members} where group_id in (select group_id from ${TEMP.skipped})`;
}
