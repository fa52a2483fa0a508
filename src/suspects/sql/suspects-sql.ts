import { sql, type RawBuilder } from 'kysely';
import { columnRef, groupableRows, keyExpressions, tableRef } from '../../keys/key-sql.js';
import { bestPointsOf, outcomeOf, pointsOf, reasonOf, settledOutcomeOf } from './comparisons-sql.js';
import { comparedForm, nameKey } from './normal-forms-sql.js';
import type { ResolvedBlock, SuspectsModel } from '../model.js';

/**
 * The statements of `suspects`, each one read-only statement (CTEs, no temp
 * table: they run on a hot standby): the candidate pairs each block would
 * give, counted before anything is compared; then the pairs compared,
 * scored, explained and grouped; then, with a ground truth, its totals.
 */

/**
 * One row per table row: id, the exact key's group id (NULL when the key
 * cannot group it), per comparator i the compared form f<i> (and for names
 * the word-sorted key k<i>) and the stored value r<i>, per block column its
 * form b<j>_<c> (its comparator's form, else the stored value), and the
 * distinguishing columns d<i>. The forms are computed once, in a fenced
 * subquery (OFFSET 0): inlined, the name key repeated the name's form
 * (accent folding) fifteen times a row.
 */
function features(model: SuspectsModel, blocks: ResolvedBlock[]): RawBuilder<unknown> {
  const { table, key, callingCode, functions, comparators } = model;
  const l = (column: string) => columnRef(column, 'l');
  const inner: RawBuilder<unknown>[] = [
    sql`${l(table.idColumn)} as id`,
    sql`case when ${groupableRows(key, 'l')} then row(${sql.join(keyExpressions(key, 'l'))})::text end as ld_key`,
  ];
  const outer: RawBuilder<unknown>[] = [sql`s.*`];
  comparators.forEach((c, i) => {
    inner.push(sql`${comparedForm(l(c.column), c.kind, callingCode, functions)} as ${sql.id(`f${i}`)}`, sql`${l(c.column)} as ${sql.id(`r${i}`)}`);
    if (c.kind === 'name') outer.push(sql`${nameKey(sql.ref(`s.f${i}`))} as ${sql.id(`k${i}`)}`);
  });
  blocks.forEach((block, j) => {
    block.columns.forEach(({ column, kind }, c) => {
      const compared = comparators.findIndex((comparator) => comparator.column === column && comparator.kind === kind);
      const alias = sql.id(`b${j}_${c}`);
      if (compared === -1) {
        inner.push(sql`${comparedForm(l(column), kind, callingCode, functions)} as ${sql.id(`v${j}_${c}`)}`);
        outer.push(sql`${kind === 'name' ? nameKey(sql.ref(`s.v${j}_${c}`)) : sql.ref(`s.v${j}_${c}`)} as ${alias}`);
      } else outer.push(sql`${kind === 'name' ? nameKey(sql.ref(`s.f${compared}`)) : sql.ref(`s.f${compared}`)} as ${alias}`);
    });
  });
  model.distinguishing.forEach((column, i) => {
    inner.push(sql`${l(column)} as ${sql.id(`d${i}`)}`);
  });
  return sql`select ${sql.join(outer)} from (select ${sql.join(inner)} from ${tableRef(table)} as l offset 0) as s`;
}

function blockColumn(alias: string, block: number, column: number): RawBuilder<unknown> {
  return sql.ref(`${alias}.b${block}_${column}`);
}

/** For a one-edit block: each distinct value with its row count, and every key it files under (itself, then itself with one character dropped). */
function neighbourhood(block: number): RawBuilder<unknown> {
  const v = blockColumn('f', block, 0);
  return sql`select v, n, case when i = 0 then v else overlay(v placing '' from i for 1) end as k
from (select ${v} as v, count(*) as n from f where ${v} is not null group by ${v}) as vals,
     pg_catalog.generate_series(0, pg_catalog.length(v)) as i`;
}

/**
 * The pairs of distinct values (p < q) sharing a neighbourhood key: one
 * aggregation over the keys, then the few keys that two values share
 * unnested. (A self-join of the keys hashed or sorted them twice: at 100k
 * rows, 1.1M keys a side and most of the block's time.)
 */
function nearValues(block: number): RawBuilder<unknown> {
  return sql`select distinct x as p, y as q
from (select pg_catalog.array_agg(v) as vs from (${neighbourhood(block)}) as keys group by k having count(*) > 1) as shared,
     pg_catalog.unnest(vs) as x, pg_catalog.unnest(vs) as y
where x < y`;
}

/**
 * The candidate pairs a block gives, (a, b) with a < b. An equality block is
 * a self-join on its columns; a one-edit block pairs the distinct values
 * sharing a neighbourhood key (so "one edit apart" is an equi-join a hash
 * aggregate serves), then the rows carrying them, plus the rows with equal values.
 */
function blockPairs(block: ResolvedBlock, j: number): RawBuilder<unknown> {
  if (!block.oneEdit) {
    const equal = block.columns.map((_, c) => sql`${blockColumn('a', j, c)} = ${blockColumn('b', j, c)}`);
    return sql`select a.id as a, b.id as b from f as a join f as b on ${sql.join(equal, sql` and `)} and a.id < b.id`;
  }
  return sql`select a.id as a, b.id as b from f as a join f as b on ${blockColumn('a', j, 0)} = ${blockColumn('b', j, 0)} and a.id < b.id
  union all
  select least(a.id, b.id), greatest(a.id, b.id)
  from (${nearValues(j)}) as near
  join f as a on ${blockColumn('a', j, 0)} = near.p
  join f as b on ${blockColumn('b', j, 0)} = near.q`;
}

/**
 * Candidate pairs per block, counted without making them: Σ n(n−1)/2 over
 * the block's keys; for a one-edit block, over its neighbourhood keys on
 * distinct values (pairs of values two keys apart, a swap, count twice: an
 * upper bound).
 */
export function candidateCountsQuery(model: SuspectsModel): RawBuilder<{ block: string; pairs: string | number | null }> {
  const counts = model.blocks.map((block, j) => {
    if (!block.oneEdit) {
      const columns = block.columns.map((_, c) => blockColumn('f', j, c));
      const set = sql.join(
        columns.map((column) => sql`${column} is not null`),
        sql` and `,
      );
      return sql`select ${sql.lit(block.name)} as block, ${sql.lit(j)} as no, (select sum(n * (n - 1) / 2) from (select count(*)::numeric as n from f where ${set} group by ${sql.join(columns)}) as g) as pairs`;
    }
    return sql`select ${sql.lit(block.name)}, ${sql.lit(j)}, (select sum(s) from (
        select sum(n * (n - 1) / 2) as s from (select count(*)::numeric as n from f where ${blockColumn('f', j, 0)} is not null group by ${blockColumn('f', j, 0)}) as same_value
        union all
        select sum((t * t - sq) / 2) from (select sum(n)::numeric as t, sum(n::numeric * n) as sq from (${neighbourhood(j)}) as keys group by k having count(*) > 1) as shared) as both_kinds)`;
  });
  return sql`with f as (${features({ ...model, comparators: [] }, model.blocks)})
select block, coalesce(pairs, 0) as pairs from (${sql.join(counts, sql` union all `)}) as c order by no`;
}

export interface SuspectPairRow {
  a: string;
  b: string;
  score: number;
  reasons: string;
  blocks: string[];
  group_id: string;
  /** The exact key's group id of each row (NULL: the key cannot group it). */
  a_key: string | null;
  b_key: string | null;
  a_row: Record<string, unknown>;
  b_row: Record<string, unknown>;
  candidates: string | number;
  compared: string | number;
}

/**
 * The suspects in one statement: candidate pairs from every block (a pair
 * once, with the blocks that gave it), less those the exact key already
 * groups; each comparator's outcome (o<i>), the score (Σ points) and the
 * reasons; the pairs at or above the threshold whose rows agree on every
 * distinguishing column; groups as connected components of those pairs
 * (a recursive CTE: every row reaches every row of its component, the group
 * is named by its smallest id); each row's stored values as JSON. The first
 * row carries the totals even when no pair is a suspect (then its a is NULL).
 */
export function suspectPairsQuery(model: SuspectsModel): RawBuilder<SuspectPairRow> {
  const { comparators, functions, table } = model;
  const outcomes = comparators.map((c, i) => sql`${outcomeOf(c, i)} as ${sql.id(`o${i}`)}`);
  const settled = comparators.map((c, i) => sql`${settledOutcomeOf(c, i, model.nameSimilarity, functions)} as ${sql.id(`o${i}`)}`);
  const best = comparators.map((c, i) => bestPointsOf(c, sql.ref(`c.o${i}`)));
  const points = comparators.map((c, i) => pointsOf(c, sql.ref(`o${i}`)));
  const reasons = comparators.map((c, i) => reasonOf(c, i, functions));
  const vetoes = model.distinguishing.map((_, i) => sql`a.${sql.id(`d${i}`)} is distinct from b.${sql.id(`d${i}`)}`);
  const outcomeColumns = comparators.map((_, i) => sql.id(`o${i}`));
  const id = (alias: string) => columnRef(table.idColumn, alias);
  return sql<SuspectPairRow>`with recursive f as (${features(model, model.blocks)}),
blocked as (${sql.join(
    model.blocks.map((block, j) => sql`select a, b, ${sql.lit(block.name)} as block from (${blockPairs(block, j)}) as p${sql.raw(String(j))}`),
    sql` union all `,
  )}),
candidates as (select a, b, array_agg(distinct block order by block) as blocks from blocked group by a, b),
compared as (
  select c.a, c.b, c.blocks, ${vetoes.length === 0 ? sql`false` : sql.join(vetoes, sql` or `)} as vetoed, a.ld_key as a_key, b.ld_key as b_key, ${sql.join(outcomes)}
  from candidates as c
  join f as a on a.id = c.a
  join f as b on b.id = c.b
  where a.ld_key is null or b.ld_key is null or a.ld_key <> b.ld_key
  offset 0),
settled as (
  select c.a, c.b, c.blocks, c.a_key, c.b_key, ${outcomes.length === 0 ? sql`null as none` : sql.join(settled)}
  from compared as c
  join f as a on a.id = c.a
  join f as b on b.id = c.b
  where not c.vetoed and ${best.length === 0 ? sql`0::float8` : sql.join(best, sql` + `)} >= ${sql.lit(model.threshold)}
  offset 0),
accepted as (
  select c.a, c.b, c.blocks, c.a_key, c.b_key, x.score, x.reasons
  from (select a, b, blocks, a_key, b_key, ${outcomes.length === 0 ? sql`null as none` : sql.join(outcomeColumns)} from settled) as c
  join f as a on a.id = c.a
  join f as b on b.id = c.b,
  lateral (select ${points.length === 0 ? sql`0::float8` : sql.join(points, sql` + `)} as score,
                  pg_catalog.concat_ws('; ', ${reasons.length === 0 ? sql`null` : sql.join(reasons)}) as reasons) as x
  where x.score >= ${sql.lit(model.threshold)}),
edges as (select a as n, b as m from accepted union all select b, a from accepted),
reach (n, m) as (select n, m from edges union select r.n, e.m from reach as r join edges as e on e.n = r.m),
labels as (select n, least(n, min(m)) as label from reach group by n),
totals as (select (select count(*) from candidates) as candidates, (select count(*) from compared) as compared)
select p.a::text as a, p.b::text as b, p.score, p.reasons, p.blocks, p.group_id, p.a_key, p.b_key, p.a_row, p.b_row, totals.candidates, totals.compared
from totals
left join (select acc.a, acc.b, acc.score, acc.reasons, acc.blocks, acc.a_key, acc.b_key, g.label::text as group_id, pg_catalog.to_jsonb(ta) as a_row, pg_catalog.to_jsonb(tb) as b_row, g.label
           from accepted as acc
           join labels as g on g.n = acc.a
           join ${tableRef(table)} as ta on ${id('ta')} = acc.a
           join ${tableRef(table)} as tb on ${id('tb')} = acc.b) as p on true
order by p.label, p.a, p.b`;
}

/**
 * With a ground-truth column: the pairs of rows that are the same person
 * (equal truth values) that the exact key does not already group, Σ over
 * truth values of n(n−1)/2 less the same within each key group.
 */
export function truthPairsQuery(model: SuspectsModel, truthColumn: string): RawBuilder<{ pairs: string | number | null }> {
  const { key, table } = model;
  const truth = columnRef(truthColumn, 'l');
  return sql`with t as (select ${truth} as t, case when ${groupableRows(key, 'l')} then row(${sql.join(keyExpressions(key, 'l'))})::text end as g
           from ${tableRef(table)} as l where ${truth} is not null offset 0)
select coalesce((select sum(n * (n - 1) / 2) from (select count(*)::numeric as n from t group by t) as people), 0)
     - coalesce((select sum(n * (n - 1) / 2) from (select count(*)::numeric as n from t where g is not null group by t, g) as caught), 0) as pairs`;
}

/**
 * For the transaction suspects reads in (SET LOCAL, gone at its end; works
 * on a standby too): no JIT. The statement is hundreds of expressions;
 * compiling them cost more than running them (at 100k rows, load average
 * 9 on 2 cores: 17.0 s with JIT, 11.2 s without). work_mem is left as the
 * server has it: 4MB against 64MB measured 11.9 s against 11.2 s, noise.
 */
export function suspectsSettingsStatements(): RawBuilder<unknown>[] {
  return [sql`set local jit = off`];
}

/**
 * For `suspects --plan-out`: the rows of the suspect groups (group number,
 * id, as parallel arrays) with their fingerprint and whether each is its
 * group's keeper (the oldest: created time, then the lowest id, as clean
 * --keep oldest). Runs after fingerprintSettingsStatement, in its transaction.
 */
export function suspectPlanRowsQuery(
  model: Pick<SuspectsModel, 'table'>,
  groupNos: number[],
  ids: string[],
): RawBuilder<{ group_no: number; id: string; fingerprint: string; keeper: boolean }> {
  const { table } = model;
  const id = columnRef(table.idColumn, 'l');
  const created = table.createdColumn === null ? sql`` : sql`${columnRef(table.createdColumn, 'l')} asc nulls last, `;
  return sql`select g.group_no, ${id}::text as id, md5(l::text) as fingerprint,
       row_number() over (partition by g.group_no order by ${created}${id}) = 1 as keeper
from unnest(${sql.val(groupNos)}::int4[], ${sql.val(ids)}::text[]) as g (group_no, id)
join ${tableRef(table)} as l on ${id}::text = g.id
order by g.group_no, ${id}`;
}
