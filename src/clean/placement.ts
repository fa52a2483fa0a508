import type { RawBuilder } from 'kysely';
import { distributionColumn } from '../db/distribution.js';
import { shardAlignedColumn } from '../keys/distribution-rule.js';
import type { ResolvedKey } from '../keys/key-definition.js';
import type { BatchScope, KeepPolicy } from './model.js';
import { citusBatchStageStatement, citusLockSettingsStatement, citusLockShardsStatement, citusLockTargetsStatement } from './sql/citus-lock-sql.js';
import { lockBatchStatement, rankStatements, type LockSource } from './sql/lock-and-rank-sql.js';
import { citusTimeoutsStatements, timeoutsStatement } from './sql/session-sql.js';
import { batchPinValuesQuery, pinnedScope, WHOLE_BATCH } from './sql/shard-pin-sql.js';

/**
 * Where the leads table lives, chosen once when a run starts, from the
 * table's distribution (read with the table from the catalog). Everything a
 * batch does differently on Citus is here; the script (script.ts) asks the
 * placement and never looks at the distribution itself:
 *
 * - `single-server`: PostgreSQL without Citus. Rows locked with FOR UPDATE
 *   in the statement that reads them; each change archived by the statement
 *   that makes it.
 * - `citus-undistributed`: a reference, local or Citus-local table on a
 *   Citus cluster. Locked as on one server; each change and its archive rows
 *   are two statements, as everywhere on a Citus cluster (the one-statement
 *   form, a data-modifying CTE, is used off Citus only).
 * - `citus`: a distributed table under a key without the distribution
 *   column. FOR UPDATE only runs on one shard: the batch's rows are locked
 *   shard by shard first, then re-read (citus-lock-sql.ts); timeouts set for
 *   the workers too.
 * - `citus-pinned`: a hash-distributed table under a key holding the
 *   distribution column as it is: every group lies on one shard, the stage
 *   is cut by shard, and every statement of a batch is pinned to its
 *   distribution values (shard-pin-sql.ts), so Citus routes it to that shard.
 */
export type PlacementKind = 'single-server' | 'citus-undistributed' | 'citus' | 'citus-pinned';

export interface Placement {
  kind: PlacementKind;
  /** Each change and its archive rows in one statement (a data-modifying CTE); otherwise the archive first, then the change. */
  archivesWithChange: boolean;
  /** The batch's timeouts, for its transaction (and, on a distributed table, the workers' connections). */
  timeouts(limits: { lockTimeoutMs: number; statementTimeoutMs: number }): RawBuilder<unknown>[];
  /** citus-pinned: the read of the batch's distribution values (the scope's source); null elsewhere. */
  scopeQuery(batch: number): ScopeQuery | null;
  /** Locks the batch's rows and re-reads them into ld_locked, then ranks them into ld_members (lock-and-rank-sql.ts). */
  lock(batch: { batch: number; keep: KeepPolicy; scope: BatchScope }): RawBuilder<unknown>[];
  rank(keep: KeepPolicy): RawBuilder<unknown>[];
}

/** A read whose row says which rows the batch's statements may touch. */
export interface ScopeQuery {
  query: RawBuilder<{ pin_values: string[] | null; holds_chunks: boolean | null }>;
  scope(row: { pin_values: string[] | null; holds_chunks: boolean | null } | undefined): BatchScope;
}

export function choosePlacement(key: ResolvedKey): Placement {
  const distribution = key.table.info.distribution;
  if (distribution === null) return onOneServer('single-server', key, { archivesWithChange: true, lockFrom: 'stage query' });
  const column = distributionColumn(distribution);
  if (column === null) return onOneServer('citus-undistributed', key, { archivesWithChange: false, lockFrom: 'run stage' });
  const pinColumn = shardAlignedColumn(key);
  return pinColumn === null ? citusLockedByShard(key, column) : citusPinned(key, pinColumn);
}

/** The batch's scope when it cannot be read (--print-sql, before any stage): a pinned batch's values shown as a placeholder. */
export function placeholderScope(key: ResolvedKey): BatchScope {
  const column = shardAlignedColumn(key);
  return column === null ? WHOLE_BATCH : pinnedScope({ column, values: ["<the batch's distribution values>"], holdsChunks: true });
}

/** `lockFrom`: where a batch reads its rows (lockBatchStatement); a Citus reference or local table keeps the form tested on Citus. */
function onOneServer(
  kind: PlacementKind,
  key: ResolvedKey,
  { archivesWithChange, lockFrom }: { archivesWithChange: boolean; lockFrom: LockSource },
): Placement {
  return {
    kind,
    archivesWithChange,
    timeouts: (limits) => [batchTimeouts(limits)],
    scopeQuery: () => null,
    lock: ({ batch, keep, scope }) => [lockBatchStatement(key, { batch, lock: true, keep, scope, from: lockFrom })],
    rank: (keep) => rankStatements(keep),
  };
}

function citusLockedByShard(key: ResolvedKey, column: string): Placement {
  return {
    ...onCitus(),
    kind: 'citus',
    lock: ({ batch, keep, scope }) => [
      citusBatchStageStatement(batch),
      citusLockTargetsStatement(key, column),
      citusLockSettingsStatement(key, column),
      citusLockShardsStatement(),
      lockBatchStatement(key, { batch, lock: false, keep, from: 'batch stage', scope }),
    ],
  };
}

function citusPinned(key: ResolvedKey, column: string): Placement {
  return {
    ...onCitus(),
    kind: 'citus-pinned',
    scopeQuery: (batch) => ({
      query: batchPinValuesQuery(batch),
      scope: (row) => pinnedScope({ column, values: row?.pin_values ?? [], holdsChunks: row?.holds_chunks === true }),
    }),
    lock: ({ batch, keep, scope }) => [citusBatchStageStatement(batch), lockBatchStatement(key, { batch, lock: true, keep, from: 'batch stage', scope })],
  };
}

/** What both distributed placements share: worker timeouts, and ld_members unindexed (Citus ships it whole to the workers: an index would go unused). */
function onCitus(): Omit<Placement, 'kind' | 'lock'> {
  return {
    archivesWithChange: false,
    timeouts: (limits) => [batchTimeouts(limits), ...citusTimeoutsStatements(limits.lockTimeoutMs, limits.statementTimeoutMs)],
    scopeQuery: () => null,
    rank: (keep) => rankStatements(keep, { indexed: false }),
  };
}

function batchTimeouts({ lockTimeoutMs, statementTimeoutMs }: { lockTimeoutMs: number; statementTimeoutMs: number }): RawBuilder<unknown> {
  return timeoutsStatement(lockTimeoutMs, statementTimeoutMs, 'transaction');
}
