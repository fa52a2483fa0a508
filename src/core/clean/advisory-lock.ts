import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../../db/database.js';
import { LockHeldError } from '../../errors.js';
import type { LeadTable } from '../../keys/key-definition.js';
import { qualifiedName, tableExists } from '../../db/catalog.js';
import { archiveRef } from '../../sql/archive-plan.js';

/** 'LD' in the high 32 bits, the table's oid in the low: one lock per table, apart from other tools' keys. */
const NAMESPACE = 0x4c44;

function lockKey(table: LeadTable): RawBuilder<unknown> {
  return sql`((${sql.lit(NAMESPACE)}::int8 << 32) + ${table.info.oid}::int8)`;
}

/**
 * One clean-up (or restore) at a time per table: a session-level advisory
 * lock on the pinned connection. It goes away with the session, so a killed
 * run never leaves it behind. Throws LockHeldError (exit 4) naming the holder.
 */
export async function acquireTableLock(connection: Db, table: LeadTable, archiveSchema: string): Promise<void> {
  const { rows } = await sql<{ ok: boolean }>`select pg_try_advisory_lock(${lockKey(table)}) as ok`.execute(connection);
  if (rows[0]?.ok) return;
  throw new LockHeldError(`another lead-dedupe run holds the lock on ${qualifiedName(table.info)}: ${await describeHolder(connection, table, archiveSchema)}`);
}

export async function releaseTableLock(connection: Db, table: LeadTable): Promise<void> {
  await sql`select pg_advisory_unlock(${lockKey(table)})`.execute(connection);
}

async function describeHolder(connection: Db, table: LeadTable, archiveSchema: string): Promise<string> {
  const parts: string[] = [];
  const run = await runningRun(connection, table, archiveSchema);
  if (run) parts.push(`run ${run.id} (started ${run.started} by ${run.db_user} from ${run.client_host})`);
  const { rows } = await sql<{ pid: number; usename: string | null; host: string | null; started: string | null }>`
    select a.pid, a.usename::text as usename, coalesce(host(a.client_addr), 'local') as host,
           to_char(a.backend_start at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' as started
    from pg_catalog.pg_locks l
    join pg_catalog.pg_stat_activity a on a.pid = l.pid
    where l.locktype = 'advisory' and l.granted and l.classid = ${sql.lit(NAMESPACE)}
      and l.objid = ${table.info.oid}::int8::oid and l.objsubid = 1
    limit 1`.execute(connection);
  const holder = rows[0];
  if (holder) parts.push(`pid ${holder.pid}, user ${holder.usename ?? '?'}, host ${holder.host ?? '?'}, connected ${holder.started ?? '?'}`);
  return parts.length > 0 ? parts.join('; ') : 'holder not visible to this user';
}

async function runningRun(connection: Db, table: LeadTable, archiveSchema: string) {
  if (!(await tableExists(connection, archiveSchema, 'lead_dedupe_runs'))) return undefined;
  const { rows } = await sql<{ id: string; started: string; db_user: string; client_host: string }>`
    select id::text as id, to_char(started_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' as started, db_user, client_host
    from ${archiveRef(archiveSchema, 'lead_dedupe_runs')}
    where table_name = ${qualifiedName(table.info)} and status = 'running'
    order by id desc limit 1`.execute(connection);
  return rows[0];
}
