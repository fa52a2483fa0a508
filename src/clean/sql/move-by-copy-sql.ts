import { sql, type RawBuilder } from 'kysely';
import { columnRef } from '../../keys/key-sql.js';

/**
 * Child rows moved to new values when the move may change the child's
 * Citus distribution column, which Citus cannot update: clean moving rows
 * to their keeper, restore moving them back. A row whose distribution value
 * changes goes to another shard: the original is deleted and a copy with the
 * new values inserted, in one statement (the DELETE locks each row and
 * returns its latest version, so a concurrent update is never lost; RETURNING
 * holds plain columns only, as Citus requires, and the copy is built from
 * them; OVERRIDING SYSTEM VALUE keeps an identity id). A row whose value
 * stays is updated in place, in every other moved column. All in the
 * caller's transaction (Citus commits it with two-phase commit). Returns the
 * move across shards and, when other columns move, the update in place.
 */
export interface CopyMove {
  /** The child table. */
  child: RawBuilder<unknown>;
  /** The rows that say where each child row goes, joined as `m`. */
  from: RawBuilder<unknown>;
  /** Which child rows (c) move, with their row of `from` (m). */
  rows: RawBuilder<unknown>;
  /** The child's distribution column. */
  distribution: string;
  /** Each moved column and its new value (over c and m). */
  values: { column: string; value: RawBuilder<unknown> }[];
  /** The RETURNING names of the new values: `ld_new` (clean) or `ld_old` (restore), then the column's position. */
  returnedAs: string;
}

export function moveByCopyStatements({ child, from, rows, distribution, values, returnedAs }: CopyMove): RawBuilder<unknown>[] {
  const newDistribution = values.find(({ column }) => column === distribution)!.value;
  const crosses = sql`${columnRef(distribution, 'c')} is distinct from ${newDistribution}`;
  const returned = values.map(({ value }, index) => sql`${value} as ${sql.id(`${returnedAs}_${index}`)}`);
  const changes = values.map(({ column }, index) => sql`${column}::text, moved.${sql.id(`${returnedAs}_${index}`)}`);
  const assignments = values.filter(({ column }) => column !== distribution).map(({ column, value }) => sql`${sql.id(column)} = ${value}`);
  return [
    sql`with moved as (
  delete from ${child} as c
  using ${from} as m
  where ${rows} and ${crosses}
  returning c.*, ${sql.join(returned)})
insert into ${child} overriding system value
select (jsonb_populate_record(null::${child}, to_jsonb(moved) || jsonb_build_object(${sql.join(changes)}))).*
from moved`,
    ...(assignments.length === 0
      ? []
      : [
          sql`update ${child} as c
set ${sql.join(assignments)}
from ${from} as m
where ${rows}`,
        ]),
  ];
}
