import { sql, type RawBuilder } from 'kysely';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { columnRef, groupIdOf, groupableRows, keyExpressions, tableRef } from '../../keys/key-sql.js';
import type { BatchScope, KeepPolicy } from '../model.js';
import { TEMP } from './temp-tables-sql.js';
import { WHOLE_BATCH } from './shard-pin-sql.js';
import { batchStageRowsQuery } from './batch-stage-sql.js';

/** Per batch: lock the batch's rows (re-read, re-keyed), rank each group, keeper first. */

/**
 * The keeper of a group too large for one batch, chosen when its first
 * chunk comes up, by the same --keep order over all the group's rows that
 * still carry its key (read, not locked: only the chunk's rows and the
 * keeper are locked, in lockBatchStatement). Later chunks keep this keeper.
 */
export function chooseChunkKeepersStatement(key: ResolvedKey, batch: number, keep: KeepPolicy, scope: BatchScope = WHOLE_BATCH): RawBuilder<unknown> {
  const expressions = keyExpressions(key, 'l');
  const id = columnRef(key.table.idColumn, 'l');
  const created = key.table.createdColumn === null ? sql`null::int` : columnRef(key.table.createdColumn, 'l');
  return sql`insert into ${TEMP.chunkKeepers} (keeper_id, group_no, first_batch)
select distinct on (group_no) row_id, group_no, ${sql.lit(batch)}::int4
from (select ${id} as row_id, s.group_no, ${created} as created, ${keep === 'most-complete' ? filledColumns('l') : sql`null::int8`} as filled
      from (select * from ${TEMP.stage}
            where group_no in (select group_no from ${TEMP.stage} where batch_no = ${sql.lit(batch)} and chunked)
              and group_no not in (select group_no from ${TEMP.chunkKeepers})) as s
      join ${tableRef(key.table)} as l on ${id} = s.row_id
      where ${groupIdOf(expressions)} = s.group_id and ${groupableRows(key, 'l')}${scope.leads('l')}) as r
order by group_no, ${keeperOrder(keep)}`;
}

/** Which batch ld_locked reads, how, and ranked for which policy. */
export interface LockedBatch {
  /** The batch (0-based); null: every staged row (the dry run). */
  batch: number | null;
  /** FOR UPDATE (--execute) or a plain read (the dry run). */
  lock: boolean;
  keep: KeepPolicy;
  scope?: BatchScope;
  /**
   * The dry run only: a per-row expression over `l` kept as ld_locked's
   * `fingerprint` (clean --plan-out's md5 of the row), computed while the
   * row is read here rather than by joining every member back to the table.
   */
  fingerprint?: RawBuilder<string>;
}

/**
 * Locks a batch's rows and re-reads them: the key is computed again from
 * the locked (current) row versions, so a row the webhook changed since the
 * staging joins the group it now belongs to, and a deleted row is simply
 * gone. `batch` null = every staged row (the dry run, which locks nothing).
 * The filled-column count costs a jsonb expansion per row, so only
 * most-complete computes it. A chunk of a large group also locks the
 * group's keeper (`forced`); `chunk_state` says whether the keeper was
 * chosen in this batch ('first') or an earlier one ('continued'). Each row
 * carries its staged batch_no: the dry run, which ranks every batch at
 * once, tells by it which rows --execute removes in an earlier batch.
 *
 *   create temporary table ld_locked on commit drop as
 *   select l."id" as row_id, jsonb_build_array(<key>) as key_values, md5(…) as group_id,
 *          l."created_at" as created, <non-empty columns> as filled, s.batch_no, s.chunked, s.forced,
 *          case when s.first_batch = 3 then 'first' when s.first_batch < 3 then 'continued' end as chunk_state
 *   from "public"."leads" as l
 *   join (<the batch's stage rows and its chunk keepers' rows, batchStageRowsQuery>) as s on s.row_id = l."id"
 *   where <key columns not null>
 *   order by l."id" for update of l
 *
 * `from`: where the batch's rows are read from. `stage query` (one
 * server): batchStageRowsQuery inline, one primary-key probe per row
 * (bench/README.md B20). `batch stage` (a Citus distributed table): the
 * same rows materialised first (citusBatchStageStatement). `run stage` (a
 * Citus reference or local table, where the inline form is not tested):
 * the run's stage, probed by id for each row (lockedRowsQuery). `scope`: a
 * batch confined to one Citus shard (shard-pin-sql.ts).
 */
export function lockBatchStatement(key: ResolvedKey, batch: LockedBatch & { from: LockSource }): RawBuilder<unknown> {
  return sql`create temporary table ld_locked on commit drop as
${lockedBatchRows(key, batch)}`;
}

/** Where a batch of --execute reads its rows from (lockBatchStatement). */
export type LockSource = 'stage query' | 'batch stage' | 'run stage';

function lockedBatchRows(key: ResolvedKey, batch: LockedBatch & { from: LockSource }): RawBuilder<unknown> {
  if (batch.batch === null || batch.from === 'run stage') return lockedRowsQuery(key, TEMP.stage, batch);
  const rows = batch.from === 'batch stage' ? TEMP.batchStage : sql`(${batchStageRowsQuery(batch.batch)})`;
  return lockedBatchStageRowsQuery(key, { ...batch, batch: batch.batch }, rows);
}

/**
 * ld_locked's SELECT over one batch's stage rows, which already hold exactly
 * the batch's rows and what the chunk keepers say of them
 * (batchStageRowsQuery): the table joined to one row source, the query
 * itself or the batch's session table (Citus).
 */
function lockedBatchStageRowsQuery(
  key: ResolvedKey,
  { batch, lock, keep, scope = WHOLE_BATCH }: LockedBatch & { batch: number },
  batchStage: RawBuilder<unknown>,
): RawBuilder<unknown> {
  const id = columnRef(key.table.idColumn, 'l');
  return sql`select ${lockedColumns(key, keep)},
       s.batch_no, s.chunked, s.forced, ${chunkState(sql`s.first_batch`, batch)}
from ${tableRef(key.table)} as l
join ${batchStage} as s on s.row_id = ${id}
where ${groupableRows(key, 'l')}${scope.leads('l')}
order by ${id}${lock ? sql` for update of l` : sql``}`;
}

/** ld_locked's columns read from the row: its id, its key now (values and group id), created time and (most-complete) filled columns. */
function lockedColumns(key: ResolvedKey, keep: KeepPolicy): RawBuilder<unknown> {
  const { key_values, group_id, created, filled } = readColumns(key, keep);
  return sql`${columnRef(key.table.idColumn, 'l')} as row_id, ${key_values} as key_values, ${group_id} as group_id,
       ${created} as created, ${filled} as filled`;
}

/** What ld_locked computes from each row besides its id: the columns the dry run's stage carries for it (dryRunCarriedColumns). */
const READ_COLUMNS = ['key_values', 'group_id', 'created', 'filled'] as const;

/** The name a column ld_locked reads has in the dry run's stage. */
const carriedName = (name: string) => `ld_row_${name}`;

/** READ_COLUMNS computed from each row `l`. */
function readColumns(key: ResolvedKey, keep: KeepPolicy): Record<(typeof READ_COLUMNS)[number], RawBuilder<unknown>> {
  const expressions = keyExpressions(key, 'l');
  return {
    key_values: sql`jsonb_build_array(${sql.join(expressions)})`,
    group_id: groupIdOf(expressions),
    created: key.table.createdColumn === null ? sql`null::int` : columnRef(key.table.createdColumn, 'l'),
    filled: keep === 'most-complete' ? filledColumns('l') : sql`null::int8`,
  };
}

/** A column the dry run's stage carries from the row it read (stageQuery's `carry`), named ld_row_<name>. */
export interface CarriedColumn {
  name: string;
  expression: RawBuilder<unknown>;
}

/**
 * What the dry run's ld_locked reads from each row, for the stage to read
 * it in its own join of the table (stageQuery's `carry`): the columns
 * ld_locked computes, whether the row is groupable, and `fingerprint`.
 * In the dry run's one statement both reads see the same row version, so
 * the values are the ones a second read by id would give, without the
 * 1.2M probes by primary key that second read cost at 10M rows (its plan
 * was a nested loop: the stage is estimated at a handful of rows;
 * bench/README.md, B26).
 */
export function dryRunCarriedColumns(key: ResolvedKey, keep: KeepPolicy, fingerprint?: RawBuilder<string>): CarriedColumn[] {
  const read = readColumns(key, keep);
  return [
    ...READ_COLUMNS.map((name) => ({ name: carriedName(name), expression: read[name] })),
    { name: carriedName('groupable'), expression: groupableRows(key, 'l') },
    ...(fingerprint === undefined ? [] : [{ name: carriedName('fingerprint'), expression: fingerprint }]),
  ];
}

/** ld_locked's SELECT over a dry-run stage that carries dryRunCarriedColumns: the columns lockedRowsQuery gives with `batch` null. */
export function lockedFromCarriedQuery(stage: RawBuilder<unknown>, { fingerprint }: { fingerprint: boolean }): RawBuilder<unknown> {
  // the names are this file's constants, not input
  const fromStage = (name: string) => sql.raw(`s.${carriedName(name)} as ${name}`);
  return sql`select s.row_id, ${sql.join(READ_COLUMNS.map(fromStage))},${fingerprint ? sql` ${fromStage('fingerprint')},` : sql``}
       s.batch_no, s.chunked, false as forced, null::text as chunk_state
from ${stage} as s
where s.${sql.raw(carriedName('groupable'))}`;
}

/** Whether a chunk's keeper was chosen in this batch ('first') or an earlier one ('continued'), from the batch that chose it. */
function chunkState(firstBatch: RawBuilder<unknown>, batch: number): RawBuilder<unknown> {
  return sql`case when ${firstBatch} = ${sql.lit(batch)} then 'first' when ${firstBatch} < ${sql.lit(batch)} then 'continued' end as chunk_state`;
}

/**
 * ld_locked's SELECT over the staged ids in `stage` (a temp table, or the
 * dry run's CTE). Only a batch of --execute has chosen chunk keepers
 * (ld_chunk_keepers); the dry run (`batch` null) counts a large group whole,
 * with no forced keeper.
 */
export function lockedRowsQuery(
  key: ResolvedKey,
  stage: RawBuilder<unknown>,
  { batch, lock, keep, scope = WHOLE_BATCH, fingerprint }: LockedBatch,
): RawBuilder<unknown> {
  const id = columnRef(key.table.idColumn, 'l');
  const columns = lockedColumns(key, keep);
  if (batch === null) {
    return sql`select ${columns},${fingerprint === undefined ? sql`` : sql` ${fingerprint} as fingerprint,`}
       s.batch_no, s.chunked, false as forced, null::text as chunk_state
from ${tableRef(key.table)} as l
join ${stage} as s on s.row_id = ${id}
where ${groupableRows(key, 'l')}
order by ${id}${lock ? sql` for update of l` : sql``}`;
  }
  return sql`select ${columns},
       s.batch_no, s.chunked, coalesce(k.keeper_id = ${id}, false) as forced,
       ${chunkState(sql`k.first_batch`, batch)}
from ${tableRef(key.table)} as l
join ${stage} as s on s.row_id = ${id}
left join ${TEMP.chunkKeepers} as k on k.group_no = s.group_no
where ${batchRowsCondition(id, stage, batch)}
  and ${groupableRows(key, 'l')}${scope.leads('l')}
order by ${id}${lock ? sql` for update of l` : sql``}`;
}

/** The rows of one batch of --execute: its staged rows and the keepers its large groups already have. */
export function batchRowsCondition(id: RawBuilder<unknown>, stage: RawBuilder<unknown>, batch: number): RawBuilder<unknown> {
  const inBatch = sql`select group_no from ${stage} where batch_no = ${sql.lit(batch)}`;
  return sql`${id} in (select row_id from ${stage} where batch_no = ${sql.lit(batch)}
                union all select keeper_id from ${TEMP.chunkKeepers} where group_no in (${inBatch}))`;
}

/** How many columns of a row hold something: not NULL and not blank. */
function filledColumns(alias: string): RawBuilder<number> {
  return sql<number>`(select count(*) from jsonb_each_text(to_jsonb(${sql.id(alias)})) as e(name, value) where e.value is not null and btrim(e.value) <> '')`;
}

/** The keeper first: the order a group is ranked in for each --keep policy; ties end on the id. */
export function keeperOrder(keep: KeepPolicy): RawBuilder<unknown> {
  switch (keep) {
    case 'oldest':
      return sql`created asc nulls last, row_id asc`;
    case 'newest':
      return sql`created desc nulls last, row_id desc`;
    case 'most-complete':
      return sql`filled desc, created asc nulls last, row_id asc`;
    default:
      return keep satisfies never;
  }
}

/**
 * Ranks the locked rows within their (current) groups; groups that are no
 * longer duplicates drop out. rank 1 is the keeper, the others are removed.
 * `indexed` false (a Citus distributed table): every statement that joins
 * ld_members with the table reads it whole and ships it to the worker, so an
 * index and statistics on it would go unused (5 ms a batch at 1M rows).
 * The statistics cover the columns a batch's statements join, filter and
 * group on: key_values (jsonb, only carried into the dry run's sample) and
 * batch_no (only the dry run's) tripled the ANALYZE's cost, 7.5 ms against
 * 2.4 ms a batch at 1M rows (bench/README.md B20).
 */
export function rankStatements(keep: KeepPolicy, { indexed }: { indexed: boolean } = { indexed: true }): RawBuilder<unknown>[] {
  return [
    sql`create temporary table ld_members on commit drop as
${rankedMembersQuery(keep, TEMP.locked)}`,
    ...(indexed ? [sql`create index on ${TEMP.members} (row_id)`, sql`analyze ${TEMP.members} (row_id, group_id, keeper_id, rank_in_group, chunk_state)`] : []),
    sql`create temporary table ld_skipped (group_id text not null, reason text not null) on commit drop`,
  ];
}

/**
 * ld_members' SELECT: the rows of `locked` ranked in their current groups.
 * A chunk of a large group ranks the keeper its first chunk chose first;
 * if that keeper no longer carries the group's key (changed or removed
 * meanwhile), the chunk is left alone for the next run. `fingerprint`:
 * carry `locked`'s fingerprint column (the dry run of clean --plan-out).
 */
export function rankedMembersQuery(
  keep: KeepPolicy,
  locked: RawBuilder<unknown>,
  { fingerprint = false }: { fingerprint?: boolean } = {},
): RawBuilder<unknown> {
  return sql`select row_id, group_id, key_values, batch_no, chunk_state,${fingerprint ? sql` fingerprint,` : sql``}
       first_value(row_id) over w as keeper_id,
       row_number() over w as rank_in_group
from (select *, count(*) over (partition by group_id) as group_size,
             bool_or(chunk_state is not null) over (partition by group_id) as chunk_keeper_chosen,
             bool_or(forced) over (partition by group_id) as has_chunk_keeper
      from ${locked}) as r
where group_size > 1 and (not chunk_keeper_chosen or has_chunk_keeper)
window w as (partition by group_id order by forced desc, ${keeperOrder(keep)})`;
}
