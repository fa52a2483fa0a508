import { sql, type RawBuilder } from 'kysely';
import type { ChildReference, KeepPolicy } from '../model.js';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { childConflictQueries, selfParentConflictQueries, keeperKeyConflictQueries } from './group-skips-sql.js';
import { childRowsToMoveQuery } from './child-rows-sql.js';
import { dryRunCarriedColumns, lockedFromCarriedQuery, lockedRowsQuery, rankedMembersQuery } from './lock-and-rank-sql.js';
import { sampleGroupsQuery } from './batch-results-sql.js';
import { stageCarries, stageQuery } from './stage-sql.js';
import { donorsQuery, keepersToMergeQuery, mergeValuesQuery, type MergeColumn } from './merge-sql.js';

export interface DryRunSettings {
  key: ResolvedKey;
  keep: KeepPolicy;
  batchSize: number;
  batchRows: number;
  maxGroups: number | null;
  references: ChildReference[];
  mergeColumns: MergeColumn[];
  sampleGroups: number;
}

export interface DryRunRow {
  batches: string | number | null;
  groups: string | number;
  victims: string | number;
  skipped_groups: string | number;
  skipped: { groupId: string; reason: string }[];
  keepers_to_merge: string | number;
  child_rows: (string | number)[];
  sample: { group_id: string; key_values: unknown[]; keeper: string; losers: string[] | null }[];
}

/** The CTE names stand where --execute has its temp tables (temp-tables-sql.ts). */
export const DRY_RUN_CTE = {
  stage: sql.id('ld_stage'),
  locked: sql.id('ld_locked'),
  ranked: sql.id('ld_ranked'),
  skipped: sql.id('ld_skipped'),
  members: sql.id('ld_members'),
  donors: sql.id('ld_donors'),
  merge: sql.id('ld_merge'),
} as const;
const CTE = DRY_RUN_CTE;

/**
 * clean's dry run as ONE read-only SELECT: the same stage, lock-set, ranking,
 * child-conflict, merge and sample queries that --execute runs per batch
 * (the other builders of this folder, merge-sql.ts), chained as materialised CTEs over all
 * groups at once instead of temp tables. No temp table, no DDL, no row lock:
 * it runs on a hot standby and in a read-only transaction.
 *
 * A group is skipped for the first reason in --execute's order (child
 * unique indexes, then a NOT NULL self-reference its keeper would have to
 * take, then a composite key's keeper with a NULL part), as the batch's INSERT … WHERE NOT EXISTS does. Batches are the
 * stage's (--batch-size groups, --batch-rows rows); a group too large for
 * one batch is ranked and counted whole (--execute removes it in chunks,
 * with the same keeper). A self-reference's moved rows leave out those
 * removed in the same or an earlier batch, by the batch_no each member
 * carries from the stage, as --execute meets them batch by batch.
 */
export function cleanDryRunQuery(settings: DryRunSettings): RawBuilder<DryRunRow> {
  const { key, references, mergeColumns } = settings;
  const keepersToMerge = mergeColumns.length === 0 ? sql`0` : sql`(${keepersToMergeQuery(key.table, mergeColumns, CTE.merge)})`;
  const childRows =
    references.length === 0
      ? sql`'[]'::jsonb`
      : sql`jsonb_build_array(${sql.join(references.map((reference) => sql`(${childRowsToMoveQuery(reference, key.table.idColumn, CTE.members)})`))})`;
  return sql<DryRunRow>`${dryRunCtes(settings)}
select (select max(batch_no) + 1 from ${CTE.stage}) as batches,
       (select count(distinct group_id) from ${CTE.members}) as groups,
       (select count(*) from ${CTE.members} where rank_in_group > 1) as victims,
       (select count(*) from ${CTE.skipped}) as skipped_groups,
       (select coalesce(jsonb_agg(jsonb_build_object('groupId', group_id, 'reason', reason)), '[]'::jsonb)
        from (select group_id, reason from ${CTE.skipped} order by group_id limit 20) as s) as skipped,
       ${keepersToMerge} as keepers_to_merge,
       ${childRows} as child_rows,
       (select coalesce(jsonb_agg(to_jsonb(s)), '[]'::jsonb) from (${sampleGroupsQuery(settings.sampleGroups, CTE.members)}) as s) as sample`;
}

/**
 * The dry run's WITH clause: the stage, lock-set, ranking, skipped groups,
 * members and (merge mode) donors and merge values as materialised CTEs named
 * as DRY_RUN_CTE says; `clean --plan-out` selects its plan from the same chain,
 * with each row's `fingerprint` read where ld_locked reads the row and carried
 * to ld_members (a second read of every member by its id cost the plan a
 * quarter of its time).
 */
export function dryRunCtes(settings: Omit<DryRunSettings, 'sampleGroups'>, { fingerprint }: { fingerprint?: RawBuilder<string> } = {}): RawBuilder<unknown> {
  const { key, keep, references, mergeColumns } = settings;
  const reasons = [
    ...childConflictQueries(references, CTE.ranked),
    ...selfParentConflictQueries(references, key.table.idColumn, CTE.ranked),
    ...keeperKeyConflictQueries(references, key.table.idColumn, CTE.ranked),
  ];
  const conflicts = reasons.map((query, index) => sql`select ${sql.lit(index)} as ld_order, s.group_id, s.reason from (${query}) as s(group_id, reason)`);
  const skipped =
    conflicts.length === 0
      ? sql`select null::text as group_id, null::text as reason where false`
      : sql`select distinct on (group_id) group_id, reason from (${sql.join(conflicts, sql` union all `)}) as c order by group_id, ld_order`;
  const merge =
    mergeColumns.length === 0
      ? sql``
      : sql`,
${CTE.donors} as materialized (${donorsQuery(key, null, CTE.members)}),
${CTE.merge} as materialized (${mergeValuesQuery(key.table, mergeColumns, CTE.donors)})`;
  // The stage reads every row the dry run needs; ld_locked takes them from it (dryRunCarriedColumns), except from a
  // Citus shard stage, which carries nothing and is read again by id.
  const carries = stageCarries(key);
  const carry = carries ? dryRunCarriedColumns(key, keep, fingerprint) : [];
  const locked = carries
    ? lockedFromCarriedQuery(CTE.stage, { fingerprint: fingerprint !== undefined })
    : lockedRowsQuery(key, CTE.stage, { batch: null, lock: false, keep, fingerprint });
  return sql`with ${CTE.stage} as materialized (${stageQuery(key, settings.batchSize, settings.batchRows, settings.maxGroups, carry)}),
${CTE.locked} as materialized (${locked}),
${CTE.ranked} as materialized (${rankedMembersQuery(keep, CTE.locked, { fingerprint: fingerprint !== undefined })}),
${CTE.skipped} as materialized (${skipped}),
${CTE.members} as materialized (select * from ${CTE.ranked} where group_id not in (select group_id from ${CTE.skipped}))${merge}`;
}
