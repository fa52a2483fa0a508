import { sql, type RawBuilder } from 'kysely';
import { columnRef, groupableRows, keyExpressions, tableRef } from '../../keys/key-sql.js';
import { bestPointsOf, outcomeOf, pointsOf, reasonOf, settledOutcomeOf } from './comparisons-sql.js';
import { comparedForm, emailFormOfLowered, emailLowered, nameFormOfLowered, nameKey, nameLowered } from './normal-forms-sql.js';
import { blockCount, blockKeys, blockPairs, blockRows, sharedKeys } from './block-keys-sql.js';
import type { ResolvedBlock, SuspectsModel } from '../model.js';

/**
 * The statement of `suspects` (one read-only statement, CTEs, no temp
 * table: it runs on a hot standby), read through a cursor: first one row
 * per block with its candidate pairs (the block keys' pass alone), then,
 * fetched only when the counts pass --max-pairs, the pairs compared,
 * scored, explained and grouped. With a ground truth, its totals after.
 */

/**
 * One row per candidate row (`ids`): id, the exact key's group id (NULL
 * when the key cannot group it), per comparator i the compared form f<i>
 * (and for names the word-sorted key k<i>) and the stored value r<i>, and
 * the distinguishing columns d<i>. In three fenced subqueries (OFFSET 0),
 * as the block keys: each stage of a form computed once a row (inlined, the
 * name key repeated the name's form, accent folding included, fifteen times).
 */
function features(model: SuspectsModel): RawBuilder<unknown> {
  const { table, key, callingCode, functions, comparators } = model;
  const l = (column: string) => columnRef(column, 'l');
  const first: RawBuilder<unknown>[] = [
    sql`${l(table.idColumn)} as id`,
    sql`case when ${groupableRows(key, 'l')} then row(${sql.join(keyExpressions(key, 'l'))})::text end as ld_key`,
  ];
  const passed = ['id', 'ld_key'];
  const second: RawBuilder<unknown>[] = [];
  const third: RawBuilder<unknown>[] = [];
  comparators.forEach((c, i) => {
    const [f, r, k] = [`f${i}`, `r${i}`, `k${i}`];
    const v = sql.ref(`v.${f}`);
    const [stage1, stage2] =
      c.kind === 'email'
        ? [emailLowered(l(c.column)), emailFormOfLowered(v)]
        : c.kind === 'name'
          ? [nameLowered(l(c.column), functions), nameFormOfLowered(v)]
          : [comparedForm(l(c.column), c.kind, callingCode, functions), v];
    first.push(sql`${stage1} as ${sql.id(f)}`, sql`${l(c.column)} as ${sql.id(r)}`);
    second.push(sql`${stage2} as ${sql.id(f)}`);
    passed.push(r);
    if (c.kind === 'name') third.push(sql`${nameKey(sql.ref(`w.${f}`))} as ${sql.id(k)}`);
  });
  model.distinguishing.forEach((column, i) => {
    first.push(sql`${l(column)} as ${sql.id(`d${i}`)}`);
    passed.push(`d${i}`);
  });
  second.unshift(...passed.map((column) => sql.ref(`v.${column}`)));
  third.unshift(sql`w.*`);
  const rows = sql`select ${sql.join(first)} from ${tableRef(table)} as l where ${l(table.idColumn)} in (select id from ids) offset 0`;
  return sql`select ${sql.join(third)} from (select ${sql.join(second)} from (${rows}) as v offset 0) as w`;
}

/** A row of the suspects statement: a block's count (block set), else a pair (or, when no pair is a suspect, the totals alone: a NULL). */
export interface SuspectsRow {
  block: string | null;
  block_pairs: string | number | null;
  a: string | null;
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

/** A pair's block bits (bit j: block j paired it) as the blocks' names, in order of name. */
function blockNames(blocks: ResolvedBlock[], bits: RawBuilder<unknown>): RawBuilder<string[]> {
  const names = sql`array[${sql.join(blocks.map((block) => sql.lit(block.name)))}]::text[]`;
  return sql<string[]>`array(select name from pg_catalog.unnest(${names}) with ordinality as b (name, j)
    where ${bits} & (1::int8 << (j - 1)::int4) <> 0 order by name)`;
}

/**
 * The suspects in one statement. First the block keys of every row (`k`),
 * each block's shared keys (`s<j>`) and their candidate counts, one row per
 * block, before anything else (the Append runs its branches in order: read
 * through a cursor, the comparison starts only when its rows are fetched).
 * Then the candidate pairs from every block (a pair once, with the blocks
 * that gave it), less those the exact key already groups; the candidate
 * rows' forms (`f`); each comparator's outcome (o<i>), the score (Σ points)
 * and the reasons; the pairs at or above the threshold whose rows agree on
 * every distinguishing column; groups as connected components of those
 * pairs (a recursive CTE: every row reaches every row of its component, the
 * group is named by its smallest id); each row's stored values as JSON. The
 * first pair row carries the totals even when no pair is a suspect (then
 * its a is NULL).
 */
export function suspectsQuery(model: SuspectsModel): RawBuilder<SuspectsRow> {
  const { comparators, functions, table, blocks } = model;
  const outcomes = comparators.map((c, i) => sql`${outcomeOf(c, i)} as ${sql.id(`o${i}`)}`);
  const settled = comparators.map((c, i) => sql`${settledOutcomeOf(c, i, model.nameSimilarity, functions)} as ${sql.id(`o${i}`)}`);
  const best = comparators.map((c, i) => bestPointsOf(c, sql.ref(`c.o${i}`)));
  const points = comparators.map((c, i) => pointsOf(c, sql.ref(`o${i}`)));
  const reasons = comparators.map((c, i) => reasonOf(c, i, functions));
  const vetoes = model.distinguishing.map((_, i) => sql`a.${sql.id(`d${i}`)} is distinct from b.${sql.id(`d${i}`)}`);
  const outcomeColumns = comparators.map((_, i) => sql.id(`o${i}`));
  const id = (alias: string) => columnRef(table.idColumn, alias);
  const perBlock = (cte: string, of: (block: ResolvedBlock, j: number) => RawBuilder<unknown>) =>
    sql.join(
      blocks.map((block, j) => sql`${sql.id(`${cte}${j}`)} as (${of(block, j)})`),
      sql`,\n`,
    );
  return sql<SuspectsRow>`with recursive k as materialized (${blockKeys(model)}),
${perBlock('s', sharedKeys)},
${perBlock('r', blockRows)},
counts as (${sql.join(
    blocks.map((block, j) => blockCount(block, j)),
    sql` union all `,
  )}),
blocked as (${sql.join(
    blocks.map((block, j) => sql`select a, b, ${sql.lit(2 ** j)}::int8 as bit from (${blockPairs(block, j)}) as p${sql.raw(String(j))}`),
    sql` union all `,
  )}),
-- the blocks of a pair as bits: a hash aggregate (an array of names needs its 800k rows sorted at 1M rows)
candidates as (select a, b, bit_or(bit) as blocks from blocked group by a, b),
ids as (select a as id from candidates union select b from candidates),
f as (${features(model)}),
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
select block, pairs as block_pairs, null::text as a, null::text as b, null::float8 as score, null::text as reasons, null::text[] as blocks,
       null::text as group_id, null::text as a_key, null::text as b_key, null::jsonb as a_row, null::jsonb as b_row, null::int8 as candidates, null::int8 as compared
from (select block, pairs from counts order by no offset 0) as c
union all
select * from (
  select null::text, null::numeric, p.a::text, p.b::text, p.score::float8, p.reasons, p.blocks::text[], p.group_id, p.a_key, p.b_key, p.a_row, p.b_row, totals.candidates, totals.compared
  from totals
  left join (select acc.a, acc.b, acc.score, acc.reasons, ${blockNames(blocks, sql.ref('acc.blocks'))} as blocks, acc.a_key, acc.b_key, g.label::text as group_id, pg_catalog.to_jsonb(ta) as a_row, pg_catalog.to_jsonb(tb) as b_row, g.label
             from accepted as acc
             join labels as g on g.n = acc.a
             join ${tableRef(table)} as ta on ${id('ta')} = acc.a
             join ${tableRef(table)} as tb on ${id('tb')} = acc.b) as p on true
  order by p.label, p.a, p.b offset 0) as pairs`;
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
