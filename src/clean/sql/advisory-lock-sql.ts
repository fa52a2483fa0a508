import { sql, type RawBuilder } from 'kysely';
import { archiveRef } from './archive-sql.js';

/** 'LD' in the high 32 bits, the table's oid in the low: one lock per table, apart from other tools' keys. */
const NAMESPACE = 0x4c44;

function lockKey(tableOid: number): RawBuilder<unknown> {
  return sql`((${sql.lit(NAMESPACE)}::int8 << 32) + ${tableOid}::int8)`;
}

/**
 * Whether this session is on a Citus cluster's coordinator. An advisory
 * lock is local to one node, and its key is the table's oid on that node,
 * so one run per table holds across the cluster only when every run goes
 * through the coordinator.
 */
export function onCitusCoordinatorQuery(): RawBuilder<{ ok: boolean }> {
  return sql<{ ok: boolean }>`select pg_catalog.citus_is_coordinator() as ok`;
}

/** Takes the table's session-level advisory lock if free: `ok` is false when another session holds it. */
export function tryTableLockQuery(tableOid: number): RawBuilder<{ ok: boolean }> {
  return sql<{ ok: boolean }>`select pg_try_advisory_lock(${lockKey(tableOid)}) as ok`;
}

export function releaseTableLockStatement(tableOid: number): RawBuilder<unknown> {
  return sql`select pg_advisory_unlock(${lockKey(tableOid)})`;
}

/** The session holding the table's lock (as far as this user may see it). */
export function lockHolderQuery(tableOid: number): RawBuilder<{ pid: number; usename: string | null; host: string | null; started: string | null }> {
  return sql<{ pid: number; usename: string | null; host: string | null; started: string | null }>`
    select a.pid, a.usename::text as usename, coalesce(host(a.client_addr), 'local') as host,
           to_char(a.backend_start at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' as started
    from pg_catalog.pg_locks l
    join pg_catalog.pg_stat_activity a on a.pid = l.pid
    where l.locktype = 'advisory' and l.granted and l.classid = ${sql.lit(NAMESPACE)}
      and l.objid = ${tableOid}::int8::oid and l.objsubid = 1
    limit 1`;
}

/** The newest run on the table still marked running (the lock holder's, unless it was killed). */
export function runningRunQuery(
  archiveSchema: string,
  qualifiedTable: string,
): RawBuilder<{ id: string; started: string; db_user: string; client_host: string }> {
  return sql<{ id: string; started: string; db_user: string; client_host: string }>`
    select id::text as id, to_char(started_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' as started, db_user, client_host
    from ${archiveRef(archiveSchema, 'lead_dedupe_runs')}
    where table_name = ${qualifiedTable} and status = 'running'
    order by id desc limit 1`;
}
