import { sql, type RawBuilder } from 'kysely';
import type { LeadTable, ResolvedKey, ResolvedKeyColumn } from '../keys/key-definition.js';
import { columnRef, expressionFence, keyAliases, oldestFirst, sameKey, tableRef } from '../keys/key-sql.js';
import { normalizeExpression } from '../keys/normalize.js';
import { duplicateGroupsQuery, groupMemberKeys } from './duplicate-groups.js';

/**
 * Planners for `diagnose`: read-only SELECTs (no temp table, no DDL), so a
 * hot standby can answer them. Three statements, run side by side on a
 * server: the diagnosis itself (two passes: the duplicate-groups hash
 * aggregate, then one window pass over the rows of those groups), the
 * timeline of leads per day, and, for phone keys, how phones spread over
 * devices and users.
 */

/** Upper bounds of the gap histogram, in ms; null is the open-ended bucket. */
export const GAP_BUCKETS_MS = [100, 1_000, 10_000, 60_000, 600_000, 3_600_000, 86_400_000, null] as const;

export type TrendInterval = 'day' | 'week';

export interface DiagnosePlan {
  key: ResolvedKey;
  /** Real columns compared between copies (every column but id, created and the key's), checked against the catalog. */
  compared: string[];
  /** Real column the surplus is split by (--by), checked against the catalog; null without --by. */
  by: string | null;
  raceWindowMs: number;
  retryWindowMs: number;
  interval: TrendInterval;
}

type Num = string | number | bigint;

export interface ByValueRow {
  value: string | null;
  surplus: Num;
  race: Num;
  retry: Num;
  resubmission: Num;
  unknown: Num;
}

export interface DiagnoseRow {
  groups: Num;
  rows_in_groups: Num;
  surplus: Num;
  /** One count per GAP_BUCKETS_MS entry. */
  gaps: Num[];
  gaps_unknown: Num;
  race: Num;
  retry: Num;
  resubmission: Num;
  unknown: Num;
  /** Per compared column, in order. */
  diff_groups: Num[];
  diff_rows: Num[];
  only_rows: Num[];
  fill_groups: Num[];
  fill_rows: Num[];
  any_diff_groups: Num;
  any_fill_groups: Num;
  /** [bucket start YYYY-MM-DD, duplicates] for every bucket that has duplicates. */
  trend: [string, Num][] | null;
  last_duplicate_at: string | null;
  last24h: Num;
  last7d: Num;
  /** The server clock when the statement ran (ISO, UTC), and the duplicates created in the 24 hours / 7 days before it. */
  server_now: string;
  before_now_24h: Num;
  before_now_7d: Num;
  by_top: ByValueRow[] | null;
  by_rest: ByValueRow | null;
  by_values: Num;
}

/** The created time as timestamptz (a timestamp column is read in the session's time zone), or NULL without one. */
export function createdAt(table: LeadTable, alias?: string): RawBuilder<unknown> {
  return table.createdColumn === null ? sql`null::timestamptz` : sql`${columnRef(table.createdColumn, alias)}::timestamptz`;
}

/** Start of the UTC day or ISO week a time falls in. */
function bucketOf(time: RawBuilder<unknown>, interval: TrendInterval): RawBuilder<unknown> {
  return sql`date_trunc(${sql.lit(interval)}, ${time} at time zone 'UTC')`;
}

const utcText = (time: RawBuilder<unknown>) => sql`to_char(${time} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

function int8Array(items: RawBuilder<unknown>[]): RawBuilder<unknown> {
  return items.length === 0 ? sql`'{}'::int8[]` : sql`array[${sql.join(items)}]::int8[]`;
}

/**
 * The diagnosis of one key in one statement. `members` holds every row of
 * every duplicate group, ordered oldest first inside its group (created time,
 * missing times last, then id, as clean orders keepers), with:
 * - ld_gap_ms: milliseconds since the previous row of the group (NULL when
 *   either created time is missing);
 * - ld_dN: column N's text differs from the group's oldest row's (NULLs compare
 *   as values);
 * - ld_fN: column N is filled (not NULL, not blank) where the oldest row's is not.
 * Every later row (ld_pos > 1) is one surplus row; the aggregates read only those.
 */
export function diagnoseQuery(plan: DiagnosePlan): RawBuilder<DiagnoseRow> {
  const { key } = plan;
  const table = key.table;
  // A Citus distributed table keeps the join to the groups, the form its planner was tested with; elsewhere the
  // rows are picked with EXISTS, so the ~40k groups are hashed, not the table (as the details export does).
  const distributed = table.info.distribution?.kind === 'distributed';
  const aliases = keyAliases(key);
  const rowKeys = groupMemberKeys(key);
  const groupKeys = sql.join(rowKeys.map((value, index) => sql`${value} as ${sql.id(aliases[index]!)}`));
  const memberKeys = sql.join(aliases.map((alias) => sql.id(alias)));
  const created = createdAt(table, 'l');
  const n = plan.compared.map((_, index) => index + 1);
  const d = (i: number) => sql.id(`ld_d${i}`);
  const f = (i: number) => sql.id(`ld_f${i}`);
  // Each compared column's text once per row, and the group's oldest row's texts as ONE first_value of an array:
  // two first_value calls per column cost the window pass 5-10% more (bench/README.md, B24).
  const texts = sql`array[${sql.join(plan.compared.map((column) => sql`${columnRef(column, 'l')}::text`))}]::text[]`;
  const perColumn = n.flatMap((i) => {
    const [text, first] = [sql`m.ld_texts[${sql.lit(i)}]`, sql`m.ld_first[${sql.lit(i)}]`];
    return [sql`${text} is distinct from ${first} as ${d(i)}`, sql`nullif(btrim(${text}), '') is not null and nullif(btrim(${first}), '') is null as ${f(i)}`];
  });
  const byColumn = plan.by === null ? sql`null::text` : sql`${columnRef(plan.by, 'l')}::text`;
  const windowColumns = [
    groupKeys,
    sql`${created} as ld_created`,
    sql`row_number() over w as ld_pos`,
    sql`extract(epoch from ${created} - lag(${created}) over w) * 1000 as ld_gap_ms`,
    sql`${byColumn} as ld_by`,
    ...(n.length === 0 ? [] : [sql`${texts} as ld_texts`, sql`first_value(${texts}) over w as ld_first`]),
  ];
  const memberColumns = [sql.join([...aliases, 'ld_created', 'ld_pos', 'ld_gap_ms', 'ld_by'].map((column) => sql.id('m', column))), ...perColumn];
  const differing =
    n.length === 0
      ? sql`0`
      : sql.join(
          n.map((i) => sql`${d(i)}::int`),
          sql` + `,
        );
  const anyFill =
    n.length === 0
      ? sql`false`
      : sql.join(
          n.map((i) => sql`${f(i)}`),
          sql` or `,
        );
  const gapBuckets = GAP_BUCKETS_MS.map((upTo, index) => {
    const from = index === 0 ? null : GAP_BUCKETS_MS[index - 1]!;
    const conditions = [...(from === null ? [] : [sql`ld_gap_ms > ${sql.lit(from)}`]), ...(upTo === null ? [] : [sql`ld_gap_ms <= ${sql.lit(upTo)}`])];
    return sql`count(*) filter (where ${sql.join(conditions, sql` and `)})`;
  });
  const causeCounts = (prefix: RawBuilder<unknown>) =>
    sql.join(
      ['race', 'retry', 'resubmission', 'unknown'].map((cause) => sql`${prefix}count(*) filter (where ld_cause = ${sql.lit(cause)}) as ${sql.id(cause)}`),
    );
  const sumCauses = sql.join(['surplus', 'race', 'retry', 'resubmission', 'unknown'].map((c) => sql`coalesce(sum(${sql.id(c)}), 0) as ${sql.id(c)}`));
  return sql<DiagnoseRow>`with groups as materialized (
${duplicateGroupsQuery(key)}
), members as materialized (
  select ${sql.join(memberColumns, sql`,\n         `)}
  from (select ${sql.join(windowColumns, sql`,\n               `)}
        from ${
          distributed
            ? sql`groups as g join ${tableRef(table)} as l on ${sameKey(key, 'l', 'g')}`
            : sql`${tableRef(table)} as l where exists (select from groups as g where ${sameKey(key, 'l', 'g')})`
        }
        window w as (partition by ${sql.join(rowKeys)} order by ${oldestFirst(table, 'l')})) as m
), dups as (
  select *,
         case when ld_gap_ms is null then 'unknown'
              when ld_gap_ms <= ${sql.lit(plan.raceWindowMs)} then 'race'
              when ld_gap_ms <= ${sql.lit(plan.retryWindowMs)} then 'retry'
              else 'resubmission' end as ld_cause,
         ${differing} as ld_ndiff,
         ${anyFill} as ld_any_fill
  from members
  where ld_pos > 1
), per_group as (
  select ${sql.join([...n.flatMap((i) => [sql`bool_or(${d(i)}) as ${sql.id(`ld_gd${i}`)}`, sql`bool_or(${f(i)}) as ${sql.id(`ld_gf${i}`)}`]), sql`bool_or(ld_ndiff > 0) as ld_gd`, sql`bool_or(ld_any_fill) as ld_gf`])}
  from dups
  group by ${memberKeys}
), by_value as (
  select ld_by as value, count(*) as surplus, ${causeCounts(sql``)},
         row_number() over (order by count(*) desc, ld_by asc nulls first) as ld_rank
  from dups
  where ${plan.by === null ? sql`false` : sql`true`}
  group by ld_by
), newest as (
  select max(${createdAt(table)}) as at from ${tableRef(table)}
)
select (select count(*) from groups) as groups,
       (select coalesce(sum(n), 0) from groups) as rows_in_groups,
       s.*, pg.*,
       (select json_agg(json_build_array(start, n) order by start)
        from (select to_char(${bucketOf(sql`ld_created`, plan.interval)}, 'YYYY-MM-DD') as start, count(*) as n
              from dups where ld_created is not null group by 1) as t) as trend,
       (select json_agg(json_build_object('value', value, 'surplus', surplus, 'race', race, 'retry', retry,
                                          'resubmission', resubmission, 'unknown', unknown) order by ld_rank)
        from by_value where ld_rank <= 20) as by_top,
       (select json_build_object('value', null, ${sql.join(
         ['surplus', 'race', 'retry', 'resubmission', 'unknown'].map((c) => sql`${sql.lit(c)}, ${sql.id(c)}`),
       )})
        from (select ${sumCauses} from by_value where ld_rank > 20 having count(*) > 0) as rest) as by_rest,
       (select count(*) from by_value) as by_values
from (select count(*) as surplus,
             array[${sql.join(gapBuckets)}]::int8[] as gaps,
             count(*) filter (where ld_gap_ms is null) as gaps_unknown,
             ${causeCounts(sql``)},
             ${int8Array(n.map((i) => sql`count(*) filter (where ${d(i)})`))} as diff_rows,
             ${int8Array(n.map((i) => sql`count(*) filter (where ${d(i)} and ld_ndiff = 1)`))} as only_rows,
             ${int8Array(n.map((i) => sql`count(*) filter (where ${f(i)})`))} as fill_rows,
             ${utcText(sql`max(ld_created)`)} as last_duplicate_at,
             count(*) filter (where ld_created > (select at from newest) - interval '24 hours') as last24h,
             count(*) filter (where ld_created > (select at from newest) - interval '7 days') as last7d,
             ${utcText(sql`now()`)} as server_now,
             count(*) filter (where ld_created > now() - interval '24 hours') as before_now_24h,
             count(*) filter (where ld_created > now() - interval '7 days') as before_now_7d
      from dups) as s,
     (select ${int8Array(n.map((i) => sql`count(*) filter (where ${sql.id(`ld_gd${i}`)})`))} as diff_groups,
             ${int8Array(n.map((i) => sql`count(*) filter (where ${sql.id(`ld_gf${i}`)})`))} as fill_groups,
             count(*) filter (where ld_gd) as any_diff_groups,
             count(*) filter (where ld_gf) as any_fill_groups
      from per_group) as pg`;
}

export interface TimelineRow {
  rows: Num | null;
  newest: string | null;
  /** [bucket start YYYY-MM-DD, leads created], every bucket of the window, oldest first. */
  points: [string, Num][] | null;
}

/**
 * Leads per day (or week) over the `days` up to the newest created time in
 * the table, and the table's row count: one hash aggregate over the table.
 * Weeks are whole ISO weeks (Monday to Sunday) that touch the window.
 */
export function timelineQuery(table: LeadTable, interval: TrendInterval, days: number): RawBuilder<TimelineRow> {
  const created = createdAt(table);
  const newestBucket = bucketOf(sql`(select newest from bounds)`, interval);
  const firstBucket = bucketOf(sql`((select newest from bounds) - ${sql.lit(days - 1)} * interval '1 day')`, interval);
  return sql<TimelineRow>`with buckets as (
  select ${bucketOf(created, interval)} as start, count(*) as n, max(${created}) as newest
  from ${tableRef(table)}
  group by 1
), bounds as (
  select max(newest) as newest, coalesce(sum(n), 0) as total from buckets
)
select (select total from bounds) as rows,
       ${utcText(sql`(select newest from bounds)`)} as newest,
       (select json_agg(json_build_array(to_char(s.start, 'YYYY-MM-DD'), coalesce(b.n, 0)) order by s.start)
        from generate_series(${firstBucket}, ${newestBucket}, ${sql.lit(`1 ${interval}`)}::interval) as s(start)
        left join buckets as b on b.start = s.start) as points`;
}

/** Types whose values are equal exactly when their text forms are, and that have min and max: compared as they are. */
const SAME_AS_ITS_TEXT = /^(smallint|integer|bigint|text|character varying(\(\d+\))?)$/;

export interface PhoneSpreadColumns {
  phone: ResolvedKeyColumn;
  /** Real device and user columns; null when the table has none. */
  device: string | null;
  user: string | null;
}

export interface PhoneSpreadRow {
  phones: Num;
  on_several_devices: Num;
  for_several_users: Num;
}

/**
 * How many phones (normalised as the key normalises them) appear on more
 * than one device and for more than one user, over the whole table: one hash
 * aggregate by phone. min <> max avoids count(distinct), which would sort.
 * It compares an integer or text column as it is (two values are equal
 * exactly when their texts are), any other type by its text form, which
 * works for every type: an integer's min and max are kept inside the
 * aggregate's entry, where text copies made it spill more (1M rows: 47 MB
 * written against 61 MB; bench/README.md, B19).
 */
export function phoneSpreadQuery(key: ResolvedKey, columns: PhoneSpreadColumns): RawBuilder<PhoneSpreadRow> {
  const phone = normalizeExpression(columnRef(columns.phone.column), columns.phone.normalize, key.callingCode);
  const several = (column: string | null, alias: 'ld_device' | 'ld_user') =>
    column === null ? sql`false` : sql`min(${sql.id(alias)}) <> max(${sql.id(alias)})`;
  const typeOf = (column: string) => key.table.info.columns.find((c) => c.name === column)?.type ?? '';
  const text = (column: string | null) =>
    column === null ? sql`null::text` : SAME_AS_ITS_TEXT.test(typeOf(column)) ? columnRef(column) : sql`${columnRef(column)}::text`;
  return sql<PhoneSpreadRow>`select count(*) as phones,
       count(*) filter (where several_devices) as on_several_devices,
       count(*) filter (where several_users) as for_several_users
from (select ${several(columns.device, 'ld_device')} as several_devices, ${several(columns.user, 'ld_user')} as several_users
      from (select ${phone} as ld_phone, ${text(columns.device)} as ld_device, ${text(columns.user)} as ld_user
            from ${tableRef(key.table)} ${expressionFence(key.table)}) as keyed
      where ld_phone is not null
      group by ld_phone) as spread`;
}
