import { sql, type RawBuilder } from 'kysely';

/** The database a plan is made on and applied to: its name and server version. */
export function databaseIdentityQuery(): RawBuilder<{ name: string; server_version: string }> {
  return sql`select current_database()::text as name, current_setting('server_version') as server_version`;
}

/** The cluster's identifier, set at initdb (pg_control_system needs superuser or pg_monitor's rights: may fail). */
export function systemIdentifierQuery(): RawBuilder<{ system_identifier: string }> {
  return sql`select system_identifier::text as system_identifier from pg_control_system()`;
}
