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
