import { sql, type RawBuilder } from 'kysely';
import type { ResolvedKey } from '../keys/key-definition.js';
import { columnRef, tableRef } from '../keys/key-sql.js';

/**
 * The statements a generated client's race test runs besides the upsert:
 * count the rows holding one lead's key values ($1..$k in key order, the raw
 * columns: every call of the race sends identical values, so equality on the
 * stored columns finds them whatever the key normalises), and delete them
 * the one it made afterwards, so the test leaves the table as it found it.
 *
 * @example device-phone:
 *   select count(*) from "public"."leads" where "device_id" = $1 and "phone" = $2
 */
export function leadCountStatement(key: ResolvedKey): RawBuilder<unknown> {
  return sql`select count(*) from ${tableRef(key.table)} where ${keyMatch(key)}`;
}

/**
 * By the id the upsert returned, so the test removes only the row it made.
 *
 * @example delete from "public"."leads" where "id" = $1
 */
export function leadDeleteStatement(key: ResolvedKey): RawBuilder<unknown> {
  return sql`delete from ${tableRef(key.table)} where ${columnRef(key.table.idColumn)} = $1`;
}

function keyMatch(key: ResolvedKey): RawBuilder<unknown> {
  // $n are placeholders for the Go driver, not values: raw text by design.
  return sql.join(
    key.columns.map((c, index) => sql`${columnRef(c.column)} = ${sql.raw(`$${index + 1}`)}`),
    sql` and `,
  );
}
