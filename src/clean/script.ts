import type { QueryResult, RawBuilder } from 'kysely';
import { qualifiedName } from '../db/catalog.js';
import { changedRows, countOf } from '../db/row-values.js';
import { DatabaseError } from '../errors.js';
import type { CleanContext } from './context.js';
import type { BatchArchive, BatchScope, ChildReference } from './model.js';
import type { Placement } from './placement.js';
import { lockPlannedRowsStatement, plannedMembersStatements } from './plan-file/plan-batch-sql.js';
import { fingerprintSettingsStatement } from './plan-file/plan-fingerprint-sql.js';
import {
  archiveMovedStatement,
  archiveRemovedStatement,
  archiveSkippedStatement,
  deleteArchivedStatement,
  moveArchivedStatement,
} from './sql/archive-batch-sql.js';
import { updateRunTotalsStatement, type RunTotals } from './sql/run-log-sql.js';
import { batchCountsQuery, deleteVictimsStatement, skippedGroupsQuery } from './sql/batch-results-sql.js';
import {
  dropSkippedKeepersStatement,
  membersWithKeepersStatements,
  moveToKeeperByCopyStatements,
  movedColumns,
  movesAcrossShards,
  repointStatement,
} from './sql/child-rows-sql.js';
import { childConflictStatements, dropSkippedStatement, keeperKeyConflictStatements, selfParentConflictStatements } from './sql/group-skips-sql.js';
import { chooseChunkKeepersStatement } from './sql/lock-and-rank-sql.js';
import { archiveKeepersStatement, donorsStatement, mergeKeepersStatement, mergeValuesStatement, recordMergedValuesStatements } from './sql/merge-sql.js';
import { WHOLE_BATCH } from './sql/shard-pin-sql.js';
import type { ChildCount, CleanOptions, SkippedGroup } from './types.js';
import { duplicateGroupCountQuery, stageStatements } from './sql/stage-sql.js';

/**
 * One named step of a batch: its statements, built when it runs (from what
 * the batch read before it), the condition it runs under, and what it reads
 * back. The runner (batch-runner.ts) only loops over them.
 */
export interface Step<Tally = BatchTally> {
  /** e.g. `lock`, `skip:child-unique`, `repoint:public.notes`. */
  name: string;
  /** When it runs, in words (--print-sql); absent: always. */
  onlyWhen?: string;
  when?(tally: Tally): boolean;
  statements(tally: Tally): RawBuilder<unknown>[];
  /** Reads the statements' results into the tally: the one place the script parses its rows. */
  read?(results: QueryResult<unknown>[], tally: Tally): void;
}

/** What the staging reads: the duplicate groups before a --max-groups cap (null when not capped). */
export interface StageTally {
  groupsTotal: number | null;
}

/**
 * The run's staging, once, before the first batch (a plain clean; applying
 * a plan stages the plan's groups instead: plan-file/stage-plan.ts): every
 * duplicate group's rows numbered into batches, in a session table.
 */
export function stagingScript(options: CleanOptions): Step<StageTally>[] {
  const { key, batchSize, batchRows, maxGroups } = options;
  return [
    ...(maxGroups === null
      ? []
      : [
          {
            // only a capped run leaves groups behind; counted as staged, so "remain" is total - cleaned
            name: 'stage:count-groups',
            onlyWhen: '--max-groups caps the run',
            statements: () => [duplicateGroupCountQuery(key)],
            read: ([result], tally) => {
              tally.groupsTotal = countOf(rowsOf<{ groups: unknown }>(result)[0]?.groups, 'the duplicate groups');
            },
          } satisfies Step<StageTally>,
        ]),
    { name: 'stage', statements: () => stageStatements(key, batchSize, batchRows, maxGroups) },
  ];
}

/** What a batch has read and done so far; the run adopts it once the batch commits. */
export interface BatchTally {
  /** The rows the batch's statements may touch (a Citus batch pinned to its shard: read by the `scope` step). */
  scope: BatchScope;
  groups: number;
  victims: number;
  /** Rows the batch locked. */
  locked: number;
  skipped: SkippedGroup[];
  merged: number;
  removed: number;
  moved: ChildCount[];
  /** The run's totals with this batch counted in (the `run-totals` step writes them). */
  totals: RunTotals;
}

/** What a batch's script is built from: the run's context, where the table lives, the run and the batch. */
export interface BatchRun {
  context: CleanContext;
  placement: Placement;
  runId: number;
  /** 0-based. */
  batch: number;
}

export function emptyTally(totals: RunTotals, scope: BatchScope = WHOLE_BATCH): BatchTally {
  return { scope, groups: 0, victims: 0, locked: 0, skipped: [], merged: 0, removed: 0, moved: [], totals };
}

/**
 * Every step of one batch, in order, inside its transaction: select the
 * batch (lock, rank, set aside the groups that must be skipped), then
 * change it (each change archived by the statement that makes it or right
 * before), then count it into the run. Applying a plan file, the batch's
 * rows are the plan's: locked and compared with the plan's fingerprints
 * (a group with a row changed or gone is skipped whole as stale).
 */
export function batchScript(run: BatchRun): Step[] {
  return [...selectSteps(run), ...skipSteps(run), ...changeSteps(run), runTotalsStep(run)];
}

function selectSteps({ context, placement, batch }: BatchRun): Step[] {
  const { key, keep } = context.options;
  const timeouts: Step = { name: 'timeouts', statements: () => placement.timeouts(context.options) };
  if (context.plan !== null) {
    return [
      timeouts,
      { name: 'plan:fingerprint', statements: () => [fingerprintSettingsStatement()] },
      { name: 'plan:lock', statements: () => [lockPlannedRowsStatement(key, batch)] },
      { name: 'plan:rank', statements: () => plannedMembersStatements(batch) },
    ];
  }
  const scopeQuery = placement.scopeQuery(batch);
  return [
    timeouts,
    ...(scopeQuery === null
      ? []
      : [
          {
            name: 'scope',
            statements: () => [scopeQuery.query],
            read: ([result], tally) => {
              tally.scope = scopeQuery.scope(rowsOf<{ pin_values: string[] | null; holds_chunks: boolean | null }>(result)[0]);
            },
          } satisfies Step,
        ]),
    {
      name: 'chunk-keepers',
      // a batch pinned to a shard knows from its stage rows whether it holds a chunk of a large group (the only case with a keeper to choose)
      onlyWhen: scopeQuery === null ? undefined : 'the batch holds a chunk of a group too large for one batch',
      when: (tally) => tally.scope.mayHoldChunks,
      statements: (tally) => [chooseChunkKeepersStatement(key, batch, keep, tally.scope)],
    },
    { name: 'lock', statements: (tally) => placement.lock({ batch, keep, scope: tally.scope }) },
    { name: 'rank', statements: () => placement.rank(keep) },
  ];
}

function skipSteps({ context }: BatchRun): Step[] {
  const { references } = context;
  const idColumn = context.options.key.table.idColumn;
  const copies = keeperValuesCopied(references);
  return [
    { name: 'skip:child-unique', statements: (tally) => childConflictStatements(references, tally.scope) },
    { name: 'skip:self-parent', statements: () => selfParentConflictStatements(references, idColumn) },
    ...(copies ? [{ name: 'members-with-keepers', statements: () => membersWithKeepersStatements(context.options.key, references) }] : []),
    { name: 'skip:keeper-key', statements: () => keeperKeyConflictStatements(references, idColumn) },
    {
      name: 'skipped',
      statements: () => [skippedGroupsQuery()],
      read: ([result], tally) => {
        tally.skipped = rowsOf<{ group_id: string; reason: string }>(result).map((row) => ({ groupId: row.group_id, reason: row.reason }));
      },
    },
    {
      name: 'skip:drop',
      onlyWhen: 'groups were skipped',
      when: (tally) => tally.skipped.length > 0,
      statements: () => [dropSkippedStatement(), ...(copies ? [dropSkippedKeepersStatement()] : [])],
    },
    {
      name: 'count',
      statements: () => [batchCountsQuery()],
      read: ([result], tally) => {
        const row = rowsOf<{ groups: unknown; victims: unknown; locked: unknown }>(result)[0];
        tally.groups = countOf(row?.groups, 'the batch groups');
        tally.victims = countOf(row?.victims, 'the rows the batch removes');
        tally.locked = countOf(row?.locked, 'the rows the batch locked');
      },
    },
  ];
}

/** The changes, only when the batch has something to remove or skip. */
function changeSteps(run: BatchRun): Step[] {
  const { context, placement } = run;
  const { key } = context.options;
  const archive = batchArchive(run);
  const hasWork = (tally: BatchTally) => tally.victims > 0 || tally.skipped.length > 0;
  const changes: Step[] = [
    {
      name: 'archive:skipped',
      onlyWhen: 'groups were skipped',
      when: (tally) => tally.skipped.length > 0,
      statements: () => [archiveSkippedStatement(archive)],
    },
    ...(placement.archivesWithChange
      ? []
      : [{ name: 'archive:removed', statements: (tally: BatchTally) => [archiveRemovedStatement(archive, key.table, tally.scope)] }]),
    ...mergeSteps(run),
    ...context.references.map((reference) => repointStep(run, reference)),
    {
      name: placement.archivesWithChange ? 'delete+archive' : 'delete',
      statements: (tally) => [placement.archivesWithChange ? deleteArchivedStatement(archive, key.table) : deleteVictimsStatement(key, tally.scope)],
      read: ([result], tally) => {
        tally.removed = changedRows(result!);
        // The rows are locked, so this cannot happen; if it does, roll the batch back rather than commit a batch other than the one ranked.
        if (tally.removed !== tally.victims) {
          throw new DatabaseError(
            `batch ${run.batch + 1} of ${qualifiedName(key.table.info)}: removed ${tally.removed} rows of the ${tally.victims} it ranked to remove; rolled back`,
          );
        }
      },
    },
  ];
  return changes.map((step) => ({
    ...step,
    onlyWhen: ['the batch removes or skips a group', ...(step.onlyWhen === undefined ? [] : [step.onlyWhen])].join(', and '),
    when: (tally) => hasWork(tally) && (step.when?.(tally) ?? true),
  }));
}

/** Merge mode: the keepers' empty columns filled from their group's other rows, each keeper archived first. */
function mergeSteps(run: BatchRun): Step[] {
  const { mergeColumns, options } = run.context;
  if (mergeColumns.length === 0) return [];
  const { key } = options;
  const archive = batchArchive(run);
  return [
    { name: 'merge:donors', statements: (tally) => [donorsStatement(key, run.batch, tally.scope)] },
    { name: 'merge:values', statements: (tally) => [mergeValuesStatement(key.table, mergeColumns, tally.scope)] },
    { name: 'merge:archive-keepers', statements: (tally) => [archiveKeepersStatement(archive, key.table, mergeColumns, tally.scope)] },
    {
      name: 'merge:keepers',
      statements: (tally) => [mergeKeepersStatement(key.table, mergeColumns, tally.scope)],
      read: ([result], tally) => {
        tally.merged = changedRows(result!);
      },
    },
    {
      name: 'merge:record-values',
      onlyWhen: 'keepers were merged into',
      when: (tally) => tally.merged > 0,
      statements: (tally) => recordMergedValuesStatements(archive, key.table, tally.scope),
    },
  ];
}

/**
 * One child table's rows moved to their keeper, and archived: in one
 * statement where the placement allows and one column moves; else archived
 * first, then moved in place, or across Citus shards by copy.
 */
function repointStep(run: BatchRun, reference: ChildReference): Step {
  const idColumn = run.context.options.key.table.idColumn;
  const archive = batchArchive(run);
  const name = `repoint:${reference.schema}.${reference.table}`;
  const count = (moved: number): ChildCount => ({
    table: `${reference.schema}.${reference.table}`,
    constraint: reference.constraint,
    column: reference.column,
    rows: moved,
  });
  if (run.placement.archivesWithChange && movedColumns(reference, idColumn).length === 1) {
    return {
      name,
      statements: () => [moveArchivedStatement(archive, reference, idColumn)],
      read: ([result], tally) => {
        tally.moved.push(count(changedRows(result!)));
      },
    };
  }
  const acrossShards = movesAcrossShards(reference, idColumn);
  return {
    name,
    statements: (tally) => [
      archiveMovedStatement(archive, reference, idColumn, tally.scope),
      ...(acrossShards ? moveToKeeperByCopyStatements(reference, idColumn) : [repointStatement(reference, idColumn, tally.scope)]),
    ],
    // the archive's rows are not moves: only the move's statements count
    read: ([, ...moves], tally) => {
      tally.moved.push(count(moves.reduce((sum, result) => sum + changedRows(result), 0)));
    },
  };
}

/** The run's totals with the batch counted in (known once the steps before it ran), written in the batch's transaction. */
function runTotalsStep(run: BatchRun): Step {
  return {
    name: 'run-totals',
    statements: (tally) => {
      tally.totals = totalsAfter(tally);
      return [updateRunTotalsStatement(run.context.options.archiveSchema, run.runId, tally.totals)];
    },
  };
}

function totalsAfter({ totals, groups, removed, merged, skipped, moved }: BatchTally): RunTotals {
  const next: RunTotals = {
    ...totals,
    groupsDone: totals.groupsDone + groups,
    rowsRemoved: totals.rowsRemoved + removed,
    rowsMerged: totals.rowsMerged + merged,
    groupsSkipped: totals.groupsSkipped + skipped.length,
    childRowsMoved: { ...totals.childRowsMoved },
    batchesDone: totals.batchesDone + 1,
  };
  for (const child of moved) next.childRowsMoved[child.table] = (next.childRowsMoved[child.table] ?? 0) + child.rows;
  return next;
}

function batchArchive({ context, runId, batch }: BatchRun): BatchArchive {
  return { schema: context.options.archiveSchema, runId, batch };
}

function keeperValuesCopied(references: readonly ChildReference[]): boolean {
  return references.some((reference) => reference.copied.length > 0);
}

function rowsOf<Row>(result: QueryResult<unknown> | undefined): Row[] {
  return (result?.rows ?? []) as Row[];
}
