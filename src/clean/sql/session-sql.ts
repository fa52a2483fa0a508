import { sql, type RawBuilder } from 'kysely';

/**
 * lock_timeout and statement_timeout for the transaction (`SET LOCAL`) or the
 * whole session (`SET`), through set_config so the values are parameters:
 * the tool's own limits then hold whatever the database or role sets.
 */
export function timeoutsStatement(lockTimeoutMs: number, statementTimeoutMs: number, scope: 'transaction' | 'session'): RawBuilder<unknown> {
  const local = scope === 'transaction';
  return sql`select set_config('lock_timeout', ${`${lockTimeoutMs}ms`}, ${local}), set_config('statement_timeout', ${`${statementTimeoutMs}ms`}, ${local})`;
}

/**
 * The same timeouts for a batch on a Citus distributed table, where the
 * row locks are taken on the workers: Citus sends a transaction's SET
 * LOCAL commands to the workers it opens only with
 * citus.propagate_set_commands = 'local' (set_config is never sent), so
 * without these a lock wait on a worker would ignore --lock-timeout.
 */
export function citusTimeoutsStatements(lockTimeoutMs: number, statementTimeoutMs: number): RawBuilder<unknown>[] {
  return [
    sql`set local citus.propagate_set_commands = 'local'`,
    sql`set local lock_timeout = ${sql.lit(`${Math.trunc(lockTimeoutMs)}ms`)}`,
    sql`set local statement_timeout = ${sql.lit(`${Math.trunc(statementTimeoutMs)}ms`)}`,
  ];
}
