import { sql, type RawBuilder } from 'kysely';

/**
 * A row's fingerprint in a plan: the md5 of the whole row's text form,
 * computed by PostgreSQL in the statement that reads (or locks) the row.
 * Any change to any column changes it. `row`: a table alias, or a whole-row value.
 *
 *   md5("l"::text)
 */
export function rowFingerprint(row: string | RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`md5(${typeof row === 'string' ? sql.id(row) : row}::text)`;
}

/**
 * A row's text form follows a few session settings (a timestamptz is written
 * in the session's TimeZone, for one). Every statement that computes a
 * fingerprint runs after this, in its transaction (SET LOCAL), so a plan
 * written from one client and applied from another agree on unchanged rows.
 */
export function fingerprintSettingsStatement(): RawBuilder<unknown> {
  return sql`select set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, YMD', true),
       set_config('IntervalStyle', 'postgres', true), set_config('extra_float_digits', '1', true), set_config('bytea_output', 'hex', true)`;
}
