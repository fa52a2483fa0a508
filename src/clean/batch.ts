import type { Db } from '../db/database.js';
import type { ResolvedKey } from '../keys/key-definition.js';
import { toNumber } from '../db/database.js';
import { qualifiedName } from '../db/catalog.js';
import { distributionColumn } from '../db/distribution.js';
import { shardAlignedColumn } from '../keys/distribution-rule.js';
import { DatabaseError } from '../errors.js';
import { batchCountsQuery, deleteVictimsStatement, skippedGroupsQuery } from './sql/batch-results-sql.js';
import { childConflictStatements, dropSkippedStatement, selfParentConflictStatements, keeperKeyConflictStatements } from './sql/group-skips-sql.js';
import { chooseChunkKeepersStatement, lockBatchStatement, rankStatements } from './sql/lock-and-rank-sql.js';
import { citusLockSettingsStatement, citusLockShardsStatement, citusBatchStageStatement, citusLockTargetsStatement } from './sql/citus-lock-sql.js';
import {
  dropSkippedKeepersStatement,
  membersWithKeepersStatements,
  moveByCopyStatements,
  movedColumns,
  movesAcrossShards,
  repointStatement,
} from './sql/child-rows-sql.js';
import { batchPinValuesQuery, type ShardPin } from './sql/shard-pin-sql.js';
import { archiveMovedStatement, archiveRemovedStatement, archiveSkippedStatement, deleteArchivedStatement, moveArchivedStatement } from './sql/archive-sql.js';
import { archiveKeepersStatement, donorsStatement, mergeKeepersStatement, mergeValuesStatement, recordMergedValuesStatements } from './sql/merge-sql.js';
import { archiveRef } from './sql/archive-sql.js';
import type { ChildCount, ChildReference, SkippedGroup } from './types.js';
import type { CleanContext } from './context.js';
import { fingerprintSettingsStatement } from './plan-file/plan-fingerprint-sql.js';
import { lockPlannedRowsStatement, plannedMembersStatements } from './plan-file/plan-batch-sql.js';

export interface BatchSelection {
  groups: number;
  victims: number;
  /** Rows the batch locked (or, in the dry run, read). */
  locked: number;
  skipped: SkippedGroup[];
  /** A batch confined to one Citus shard (shard-pin-sql.ts): its changes are filtered on its distribution values too. */
  pin: ShardPin | null;
}

/**
 * Locks (or, for the dry run, just reads) a batch's rows, ranks them in
 * their current groups, and sets aside the groups a child unique index
 * would not let us re-point. Leaves pg_temp.ld_members holding the batch.
 * Applying a plan, the batch's rows are the plan's: locked, their
 * fingerprints compared with the plan's (a group with a row changed or gone
 * is skipped whole as stale), ranked with the plan's keeper first.
 */
export async function selectBatch(connection: Db, context: CleanContext, batch: number | null, lock: boolean): Promise<BatchSelection> {
  const { key, keep } = context.options;
  let pin: ShardPin | null = null;
  if (context.plan !== null && batch !== null) {
    await fingerprintSettingsStatement().execute(connection);
    await lockPlannedRowsStatement(key, batch).execute(connection);
    for (const statement of plannedMembersStatements(batch)) await statement.execute(connection);
  } else {
    pin = lock && batch !== null ? await batchShardPin(connection, key, batch) : null;
    // A pinned batch knows from its stage rows whether it holds a chunk of a large group (the only case with a keeper to choose).
    if (batch !== null && pin?.holdsChunks !== false) await chooseChunkKeepersStatement(key, batch, keep, pin).execute(connection);
    // On a Citus distributed table FOR UPDATE is only planned for a query on one shard: a pinned batch is one (shard-pin-sql.ts);
    // any other locks shard by shard first, then re-reads unlocked (citus-lock-sql.ts).
    const distribution = distributionColumn(key.table.info.distribution);
    const onCitus = lock && batch !== null && distribution !== null;
    if (onCitus) await citusBatchStageStatement(batch).execute(connection);
    if (onCitus && pin === null) {
      await citusLockTargetsStatement(key, distribution).execute(connection);
      await citusLockSettingsStatement(key, distribution).execute(connection);
      await citusLockShardsStatement().execute(connection);
    }
    const lockHere = lock && (distribution === null || pin !== null);
    await lockBatchStatement(key, batch, lockHere, keep, onCitus ? 'batch stage' : 'run stage', pin).execute(connection);
    for (const statement of rankStatements(keep, !onCitus)) await statement.execute(connection);
  }
  for (const statement of childConflictStatements(context.references, pin)) await statement.execute(connection);
  for (const statement of selfParentConflictStatements(context.references, key.table.idColumn)) await statement.execute(connection);
  // The members with their keepers' values, read once (the keepers are locked): the keeper checks and the child moves join only this session table.
  const copies = context.references.some((reference) => reference.copied.length > 0);
  if (copies) for (const statement of membersWithKeepersStatements(key, context.references)) await statement.execute(connection);
  for (const statement of keeperKeyConflictStatements(context.references, key.table.idColumn)) await statement.execute(connection);
  const skipped = (await skippedGroupsQuery().execute(connection)).rows.map((row) => ({ groupId: row.group_id, reason: row.reason }));
  if (skipped.length > 0) await dropSkippedStatement().execute(connection);
  if (skipped.length > 0 && copies) await dropSkippedKeepersStatement().execute(connection);
  const counts = (await batchCountsQuery().execute(connection)).rows[0];
  return { groups: toNumber(counts?.groups), victims: toNumber(counts?.victims), locked: toNumber(counts?.locked), skipped, pin };
}

export interface BatchChanges {
  removed: number;
  merged: number;
  moved: ChildCount[];
}

/**
 * The changes of one batch, inside its transaction, each archived by the
 * statement that makes it or right before: skipped groups; the merge
 * (keepers archived first); each child table's re-point; the delete of the
 * removed rows. The batch commits or rolls back as a whole.
 */
export async function applyBatch(connection: Db, context: CleanContext, runId: number, batch: number, selection: BatchSelection): Promise<BatchChanges> {
  const { key, archiveSchema } = context.options;
  const table = key.table;
  // Off Citus each change and its archive are one statement (archive-sql.ts); on a Citus cluster they stay two.
  const together = table.info.distribution === null;
  const { pin } = selection;
  if (selection.skipped.length > 0) await archiveSkippedStatement(archiveSchema, runId, batch).execute(connection);
  if (!together) await archiveRemovedStatement(archiveSchema, table, runId, batch, pin).execute(connection);
  let merged = 0;
  if (context.mergeColumns.length > 0) {
    await donorsStatement(key, batch, pin).execute(connection);
    await mergeValuesStatement(table, context.mergeColumns, pin).execute(connection);
    const keepers = archiveRef(archiveSchema, 'lead_dedupe_keepers');
    await archiveKeepersStatement(table, context.mergeColumns, keepers, runId, batch, pin).execute(connection);
    merged = affected(await mergeKeepersStatement(table, context.mergeColumns, pin).execute(connection));
    if (merged > 0) for (const statement of recordMergedValuesStatements(table, keepers, runId, pin)) await statement.execute(connection);
  }
  const moved: ChildCount[] = [];
  for (const reference of context.references) {
    const rows =
      together && movedColumns(reference, table.idColumn).length === 1
        ? affected(await moveArchivedStatement(archiveSchema, reference, table.idColumn, runId, batch).execute(connection))
        : await archiveThenMove(connection, reference, table.idColumn, archiveSchema, runId, batch, pin);
    moved.push({ table: `${reference.schema}.${reference.table}`, constraint: reference.constraint, column: reference.column, rows });
  }
  const removed = affected(
    await (together ? deleteArchivedStatement(archiveSchema, table, runId, batch) : deleteVictimsStatement(key, pin)).execute(connection),
  );
  if (removed !== selection.victims) {
    // The rows are locked, so this cannot happen; if it does, roll the batch back rather than commit a batch other than the one ranked.
    throw new DatabaseError(
      `batch ${batch + 1} of ${qualifiedName(table.info)}: removed ${removed} rows of the ${selection.victims} it ranked to remove; rolled back`,
    );
  }
  return { removed, merged, moved };
}

/** A child's move archived first, then made: in place, or across Citus shards (moveByCopy). */
async function archiveThenMove(
  connection: Db,
  reference: ChildReference,
  idColumn: string,
  archiveSchema: string,
  runId: number,
  batch: number,
  pin: ShardPin | null,
): Promise<number> {
  await archiveMovedStatement(archiveSchema, reference, idColumn, runId, batch, pin).execute(connection);
  return movesAcrossShards(reference, idColumn)
    ? moveByCopy(connection, reference, idColumn)
    : affected(await repointStatement(reference, idColumn, pin).execute(connection));
}

/** Rows that change shard: each original deleted and its copy inserted (one statement); the others updated in place. */
async function moveByCopy(connection: Db, reference: ChildReference, idColumn: string): Promise<number> {
  const [across, inPlace] = moveByCopyStatements(reference, idColumn);
  const copied = affected(await across!.execute(connection));
  return copied + (inPlace === undefined ? 0 : affected(await inPlace.execute(connection)));
}

function affected(result: { numAffectedRows?: bigint; numUpdatedOrDeletedRows?: bigint }): number {
  return Number(result.numAffectedRows ?? result.numUpdatedOrDeletedRows ?? 0);
}

/** The batch's shard pin when clean cuts batches by shard (shard-pin-sql.ts); null otherwise. */
async function batchShardPin(connection: Db, key: ResolvedKey, batch: number): Promise<ShardPin | null> {
  const column = shardAlignedColumn(key);
  if (column === null) return null;
  const row = (await batchPinValuesQuery(batch).execute(connection)).rows[0];
  return { column, values: row?.pin_values ?? [], holdsChunks: row?.holds_chunks === true };
}
