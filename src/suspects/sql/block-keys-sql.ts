import { sql, type RawBuilder } from 'kysely';
import { columnRef, tableRef } from '../../keys/key-sql.js';
import { comparedForm, emailFormOfLowered, emailLowered, nameFormOfLowered, nameKey, nameLowered } from './normal-forms-sql.js';
import type { ResolvedBlock, SuspectsModel } from '../model.js';

/**
 * Blocking over every row, cheaply: one pass computes each block column's
 * key (`k`: its comparator's normal form, a name as its word-sorted key),
 * one hash aggregate per block keeps the keys two rows or more share
 * (`s<j>`, with their row counts: the candidate counts come from them), and
 * only the rows carrying such a key are paired. The costly comparison forms
 * (suspects-sql's features) are computed later, for the candidate rows only.
 */

export function blockKeyColumn(block: number, column: number): string {
  return `b${block}_${column}`;
}

/**
 * One row per table row: its id and every block column's key, `b<j>_<c>`.
 * In three fenced subqueries (OFFSET 0), each stage computed once a row: an
 * expression that reads another several times would compute it each time
 * (the name key reads its form fifteen times, the e-mail form its lower case six).
 */
export function blockKeys(model: SuspectsModel): RawBuilder<unknown> {
  const { table, callingCode, functions } = model;
  const l = (column: string) => columnRef(column, 'l');
  const stages: RawBuilder<unknown>[][] = [[sql`${l(table.idColumn)} as id`], [sql`v.id`], [sql`w.id`]];
  model.blocks.forEach((block, j) => {
    block.columns.forEach(({ column, kind }, c) => {
      const name = blockKeyColumn(j, c);
      const [v, w] = [sql.ref(`v.${name}`), sql.ref(`w.${name}`)];
      const [first, second, third] =
        kind === 'email'
          ? [emailLowered(l(column)), emailFormOfLowered(v), w]
          : kind === 'name'
            ? [nameLowered(l(column), functions), nameFormOfLowered(v), nameKey(w)]
            : [comparedForm(l(column), kind, callingCode, functions), v, w];
      stages[0]!.push(sql`${first} as ${sql.id(name)}`);
      stages[1]!.push(sql`${second} as ${sql.id(name)}`);
      stages[2]!.push(sql`${third} as ${sql.id(name)}`);
    });
  });
  const [first, second, third] = stages.map((columns) => sql.join(columns));
  return sql`select ${third} from (select ${second} from (select ${first} from ${tableRef(table)} as l offset 0) as v offset 0) as w`;
}

function keyRefs(alias: string, block: ResolvedBlock, j: number): RawBuilder<unknown>[] {
  return block.columns.map((_, c) => sql.ref(`${alias}.${blockKeyColumn(j, c)}`));
}

/** The keys of block j that two rows or more share, `n` rows each (a one-edit block: its values, every one, with their counts). */
export function sharedKeys(block: ResolvedBlock, j: number): RawBuilder<unknown> {
  const refs = keyRefs('k', block, j);
  const set = sql.join(
    refs.map((ref) => sql`${ref} is not null`),
    sql` and `,
  );
  const having = block.oneEdit ? sql`` : sql` having count(*) > 1`;
  return sql`select ${sql.join(refs)}, count(*)::numeric as n from k where ${set} group by ${sql.join(refs)}${having}`;
}

/** For a one-edit block: each distinct value with its row count, and every key it files under (itself, then itself with one character dropped). */
function neighbourhood(j: number): RawBuilder<unknown> {
  const v = sql.ref(`s.${blockKeyColumn(j, 0)}`);
  return sql`select ${v} as v, n, case when i = 0 then ${v} else overlay(${v} placing '' from i for 1) end as nk
from ${sql.id(`s${j}`)} as s, pg_catalog.generate_series(0, pg_catalog.length(${v})) as i`;
}

/**
 * Candidate pairs of block j, Σ n(n−1)/2 over its shared keys; for a
 * one-edit block also over its neighbourhood keys shared by several values
 * (pairs of values two keys apart, a swap, count twice: an upper bound).
 */
export function blockCount(block: ResolvedBlock, j: number): RawBuilder<unknown> {
  const s = sql.id(`s${j}`);
  const same = sql`(select coalesce(sum(n * (n - 1) / 2), 0) from ${s})`;
  if (!block.oneEdit) return sql`select ${sql.lit(block.name)} as block, ${sql.lit(j)} as no, ${same} as pairs`;
  return sql`select ${sql.lit(block.name)} as block, ${sql.lit(j)} as no, ${same} + (select coalesce(sum((t * t - sq) / 2), 0)
    from (select sum(n) as t, sum(n * n) as sq from (${neighbourhood(j)}) as keys group by nk having count(*) > 1) as shared) as pairs`;
}

/**
 * The pairs of distinct values (p < q) of a one-edit block sharing a
 * neighbourhood key: one aggregation over the keys, then the few keys that
 * two values share unnested (a self-join of the keys hashed or sorted them twice).
 */
function nearValues(j: number): RawBuilder<unknown> {
  return sql`select distinct x as p, y as q
from (select pg_catalog.array_agg(v) as vs from (${neighbourhood(j)}) as keys group by nk having count(*) > 1) as shared,
     pg_catalog.unnest(vs) as x, pg_catalog.unnest(vs) as y
where x < y`;
}

/** The rows of block j carrying a key another row shares (a hash semi-join on the few shared keys); of a one-edit block, every row with a value. */
export function blockRows(block: ResolvedBlock, j: number): RawBuilder<unknown> {
  const shared = keyRefs('s', block, j);
  const own = keyRefs('k', block, j);
  if (block.oneEdit) return sql`select k.id, ${own[0]} from k where ${own[0]} is not null`;
  return sql`select k.id, ${sql.join(own)} from k where (${sql.join(own)}) in (select ${sql.join(shared)} from ${sql.id(`s${j}`)} as s)`;
}

/**
 * The candidate pairs block j gives, (a, b) with a < b: its rows (`r<j>`,
 * blockRows) joined on the key; a one-edit block also pairs the rows of
 * values one edit apart.
 */
export function blockPairs(block: ResolvedBlock, j: number): RawBuilder<unknown> {
  const r = sql.id(`r${j}`);
  const equal = block.columns.map((_, c) => sql`${sql.ref(`a.${blockKeyColumn(j, c)}`)} = ${sql.ref(`b.${blockKeyColumn(j, c)}`)}`);
  const pairs = sql`select a.id as a, b.id as b from ${r} as a join ${r} as b on ${sql.join(equal, sql` and `)} and a.id < b.id`;
  if (!block.oneEdit) return pairs;
  const v = (alias: string) => sql.ref(`${alias}.${blockKeyColumn(j, 0)}`);
  return sql`${pairs}
  union all
  select least(a.id, b.id), greatest(a.id, b.id)
  from (${nearValues(j)}) as near
  join ${r} as a on ${v('a')} = near.p
  join ${r} as b on ${v('b')} = near.q`;
}
