import type pg from 'pg';
import type { TargetSessionAttrs } from './postgres-target.js';

/** What target_session_attrs asks of a session, once the session is open. */
export type SessionRequirement = Exclude<TargetSessionAttrs, 'prefer-standby'>;

/**
 * libpq's passes over the host list: prefer-standby first looks for a
 * standby on every host, then takes any; the others make one pass.
 */
export function sessionPasses(attrs: TargetSessionAttrs): SessionRequirement[] {
  return attrs === 'prefer-standby' ? ['standby', 'any'] : [attrs];
}

/**
 * libpq's check (PostgreSQL 14+): read-only means default_transaction_read_only
 * is on or the server is a hot standby; primary and standby look at recovery alone.
 */
export async function sessionMeets(client: pg.Client, requirement: SessionRequirement): Promise<boolean> {
  if (requirement === 'any') return true;
  const { rows } = await client.query<{ standby: boolean; read_only: boolean }>(
    "select pg_catalog.pg_is_in_recovery() as standby, pg_catalog.current_setting('default_transaction_read_only') = 'on' as read_only",
  );
  const { standby, read_only: readOnlyDefault } = rows[0]!;
  switch (requirement) {
    case 'read-write':
      return !standby && !readOnlyDefault;
    case 'read-only':
      return standby || readOnlyDefault;
    case 'primary':
      return !standby;
    case 'standby':
      return standby;
    default:
      return requirement satisfies never;
  }
}
