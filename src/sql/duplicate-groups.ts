import { sql, type RawBuilder } from 'kysely';
import type { ResolvedKey } from '../keys/key-definition.js';
import { columnRef, groupableRows, groupedValuesSet, keyAliases, keyExpressions, tableRef } from '../keys/key-sql.js';
import { hashPartFilter, type HashPart } from './hash-part.js';
import { shardAlignedColumn } from '../keys/distribution-rule.js';

/**
 * The one definition of a duplicate group, shared by scan, details and clean:
 *
 *   select "device_id" as "ld_k1", "phone" as "ld_k2", count(*) as n
 *   from "public"."leads"
 *   where "device_id" is not null and "phone" is not null   -- unless NULLs are equal
 *   group by 1, 2
 *   having count(*) > 1
 *
 * A single hash aggregate: per bench/README.md (B2) the cheapest plan at 1M and 5M rows.
 * With `part`, only the groups in that part of a split by a hash of one raw
 * key column (hash-part.ts): every row of a group is in the same part.
 * A normalised key computes its expressions once per row in a fenced
 * subquery (OFFSET 0), then filters and groups the results; otherwise
 * PostgreSQL would evaluate the regular expressions again for the NULL test
 * (measured: 4.1 s against 2.8 s at 1M rows with e164).
 */
export function duplicateGroupsQuery(key: ResolvedKey, part?: HashPart): RawBuilder<unknown> {
  const expressions = keyExpressions(key);
  const aliases = keyAliases(key).map((alias) => sql.id(alias));
  const selected = expressions.map((expression, index) => sql`${expression} as ${aliases[index]}`);
  const positions = expressions.map((_, index) => sql.raw(String(index + 1)));
  const inPart = part === undefined ? null : hashPartFilter(key, part);
  if (key.columns.every((column) => column.normalize === null)) {
    return sql`select ${sql.join(selected)}, count(*) as n
from ${tableRef(key.table)}
where ${groupableRows(key)}${inPart === null ? sql`` : sql` and ${inPart}`}
group by ${sql.join(positions)}
having count(*) > 1`;
  }
  if (key.table.info.distribution?.kind === 'distributed') return distributedGroupsQuery(key, inPart);
  const notNull = groupedValuesSet(key) ?? sql`true`;
  return sql`select ${sql.join(aliases)}, count(*) as n
from (select ${sql.join(selected)} from ${tableRef(key.table)}${onlyPart(inPart)} offset 0) as keyed
where ${notNull}
group by ${sql.join(positions)}
having count(*) > 1`;
}

/**
 * A group member's key values, where a statement reads the table as `l` beside the groups (`groups`, aliased
 * `g`): on a Citus distributed table, which joins the groups (the form its planner was tested with), the group's
 * own; elsewhere, where the members are picked with EXISTS and only the row is in scope, the row's normalised key.
 */
export function groupMemberKeys(key: ResolvedKey): RawBuilder<unknown>[] {
  return key.table.info.distribution?.kind === 'distributed' ? keyAliases(key).map((alias) => sql.id('g', alias)) : keyExpressions(key, 'l');
}

/**
 * A normalised key on a Citus distributed table: Citus cannot push a
 * subquery with OFFSET down to the shards (it would pull every row to the
 * coordinator first), so the key is grouped directly and the NULL test moves
 * to HAVING, where it reads each group's value instead of evaluating the
 * expressions again for every row. The same groups: a group whose value is
 * NULL holds only rows whose value is NULL. Under a key holding the
 * distribution column, grouped whole on each shard, the test sits inside a
 * CASE with the count: PostgreSQL moves a HAVING condition that holds no
 * aggregate into WHERE, where the expressions would be evaluated twice per
 * row (1M rows, e164, on the 3-instance cluster: 1.63 s against 1.02 s;
 * B15). Citus cannot merge such a CASE across shards, so a key without that
 * column keeps the plain conditions.
 */
function distributedGroupsQuery(key: ResolvedKey, inPart: RawBuilder<unknown> | null): RawBuilder<unknown> {
  const notNull = groupableRows(key);
  const duplicate = key.nullsEqual
    ? sql`count(*) > 1`
    : shardAlignedColumn(key) === null
      ? sql`count(*) > 1 and ${notNull}`
      : sql`case when ${notNull} then count(*) > 1 else false end`;
  return sql`${groupedByKey(key, inPart)}
having ${duplicate}`;
}

/**
 * Every group of the table under the key, NULL keys and single rows
 * included (no WHERE, no HAVING): the relation scan's row count is summed
 * from on a Citus distributed table (keyScanWithRowCountQuery).
 */
export function everyGroupQuery(key: ResolvedKey): RawBuilder<unknown> {
  return groupedByKey(key, null);
}

/** The key's expressions as ld_k1, ld_k2, …, and each group's size, over the table (or one part of it). */
function groupedByKey(key: ResolvedKey, inPart: RawBuilder<unknown> | null): RawBuilder<unknown> {
  const expressions = keyExpressions(key);
  const selected = expressions.map((expression, index) => sql`${expression} as ${sql.id(keyAliases(key)[index]!)}`);
  const positions = expressions.map((_, index) => sql.raw(String(index + 1)));
  return sql`select ${sql.join(selected)}, count(*) as n
from ${tableRef(key.table)}${onlyPart(inPart)}
group by ${sql.join(positions)}`;
}

function onlyPart(inPart: RawBuilder<unknown> | null): RawBuilder<unknown> {
  return inPart === null ? sql`` : sql` where ${inPart}`;
}

/**
 * The rows of the duplicate groups, each with its id (row_id), its group's
 * key values (ld_k1, ld_k2, …) and size (n): one pass, a window partitioned
 * by the key. On Citus, under a key holding the distribution column, each
 * shard runs it whole (a window partitioned by that column is pushed down),
 * so the groups and their rows come back from one pass over each shard;
 * duplicateGroupsQuery and a join back to the table would take two, the
 * second shipping every group to every shard (clean's stage: src/clean/sql/shard-stage-sql.ts).
 * The same groups as duplicateGroupsQuery: the same rows are grouped alike.
 * A normalised key's NULL test reads the window's output, inside a CASE with
 * the count that PostgreSQL cannot move below the window: as a WHERE on the
 * table it would evaluate the expressions a second time per row.
 */
export function duplicateGroupRowsQuery(key: ResolvedKey): RawBuilder<unknown> {
  const expressions = keyExpressions(key, 'l');
  const aliases = keyAliases(key).map((alias) => sql.id(alias));
  const selected = expressions.map((expression, index) => sql`${expression} as ${aliases[index]}`);
  const normalised = key.columns.some((column) => column.normalize !== null);
  const rowFilter =
    normalised || key.nullsEqual
      ? sql``
      : sql`
where ${groupableRows(key, 'l')}`;
  const valuesSet = groupedValuesSet(key);
  const duplicate = normalised && valuesSet !== null ? sql`case when ${valuesSet} then n > 1 else false end` : sql`n > 1`;
  return sql`select * from (select ${columnRef(key.table.idColumn, 'l')} as row_id, ${sql.join(selected)}, count(*) over (partition by ${sql.join(expressions)}) as n
from ${tableRef(key.table)} as l${rowFilter}) as r
where ${duplicate}`;
}
