import type { Db } from '../db/database.js';
import { LockHeldError, UsageError } from '../errors.js';
import type { LeadTable } from '../keys/key-definition.js';
import { qualifiedName, tableExists } from '../db/catalog.js';
import { rowNumber } from '../db/row-numbers.js';
import { lockHolderQuery, onCitusCoordinatorQuery, releaseTableLockStatement, runningRunQuery, tryTableLockQuery } from './sql/advisory-lock-sql.js';

/**
 * One clean-up (or restore) at a time per table: a session-level advisory
 * lock on the pinned connection. It goes away with the session, so a killed
 * run never leaves it behind. Throws LockHeldError (exit 4) naming the holder.
 * On a table in Citus' metadata the lock is only taken on the coordinator
 * (UsageError, exit 2, on a worker): a lock taken on a worker would not
 * keep out a run on the coordinator or on another worker.
 */
export async function acquireTableLock(connection: Db, table: LeadTable, archiveSchema: string): Promise<void> {
  const distribution = table.info.distribution;
  if (distribution !== null && distribution.kind !== 'local' && !(await onCitusCoordinatorQuery().execute(connection)).rows[0]?.ok) {
    throw new UsageError(
      `${qualifiedName(table.info)} is a Citus ${distribution.kind} table and this is not the cluster's coordinator: connect to the coordinator, where the one-run-per-table lock lives`,
    );
  }
  const { rows } = await tryTableLockQuery(table.info.oid).execute(connection);
  if (rows[0]?.ok) return;
  const holder = await lockHolder(connection, table, archiveSchema);
  const name = qualifiedName(table.info);
  throw new LockHeldError(`another lead-dedupe run holds the lock on ${name}: ${holder.text}`, { table: name, runId: holder.runId, pid: holder.pid });
}

export async function releaseTableLock(connection: Db, table: LeadTable): Promise<void> {
  await releaseTableLockStatement(table.info.oid).execute(connection);
}

/** The run and the session holding the lock, as far as this user can see them (null: not visible), and in words. */
async function lockHolder(connection: Db, table: LeadTable, archiveSchema: string): Promise<{ runId: number | null; pid: number | null; text: string }> {
  const parts: string[] = [];
  const run = (await tableExists(connection, archiveSchema, 'lead_dedupe_runs'))
    ? (await runningRunQuery(archiveSchema, qualifiedName(table.info)).execute(connection)).rows[0]
    : undefined;
  if (run) parts.push(`run ${run.id} (started ${run.started} by ${run.db_user} from ${run.client_host})`);
  const holder = (await lockHolderQuery(table.info.oid).execute(connection)).rows[0];
  if (holder) parts.push(`pid ${holder.pid}, user ${holder.usename ?? '?'}, host ${holder.host ?? '?'}, connected ${holder.started ?? '?'}`);
  return {
    runId: run === undefined ? null : rowNumber(run.id, 'id'),
    pid: holder === undefined ? null : rowNumber(holder.pid, 'pid'),
    text: parts.length > 0 ? parts.join('; ') : 'holder not visible to this user',
  };
}
