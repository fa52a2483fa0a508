import { createHash } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import type { LeadTable, ResolvedKey } from '../keys/key-definition.js';
import { columnRef, keyExpressions, tableRef } from '../keys/key-sql.js';
import { normalizeFunctionCall, normalizeFunctionFor } from '../keys/normalize-function.js';

/**
 * Pure SQL for `constraint add` / `constraint drop`: the same key model as
 * scan, so the index enforces exactly what scan counts. Every name reaching
 * these functions was checked against the catalog and goes through `sql.id`.
 */

/** PostgreSQL truncates longer identifiers silently (NAMEDATALEN - 1). */
export const MAX_IDENTIFIER_BYTES = 63;

/**
 * How a normalised column appears in an index or an ON CONFLICT target:
 * `function`, the rule's short function (`lead_dedupe.e164_60_v1("phone")`,
 * what `constraint add` and `index add` build, keys/normalize-function.ts);
 * `inline`, the expression itself in parentheses, as earlier versions built
 * it (and what scan computes: keyExpressions).
 */
export type ElementForm = 'function' | 'inline';

/**
 * One element per key column: the plain column, or its normalised form.
 *
 * @example device_id, phone=e164 → `"device_id"`, `lead_dedupe.e164_60_v1("phone")`
 */
export function indexElements(key: ResolvedKey, form: ElementForm = 'function'): RawBuilder<unknown>[] {
  const expressions = keyExpressions(key);
  return key.columns.map((column, index) => {
    if (column.normalize === null) return columnRef(column.column);
    if (form === 'inline') return sql`(${expressions[index]!})`;
    return normalizeFunctionCall(normalizeFunctionFor(column.normalize, key.callingCode), columnRef(column.column));
  });
}

/** true when every key column is a plain column: only then can the index back a table constraint. */
export function isPlainKey(key: ResolvedKey): boolean {
  return key.columns.every((column) => column.normalize === null);
}

/**
 * @example create unique index concurrently "leads_device_id_phone_key" on "public"."leads" ("device_id", "phone")
 * With NULLs equal it ends in `nulls not distinct` (PostgreSQL 15+), matching scan's grouping of NULLs.
 */
export function createUniqueIndexStatement(key: ResolvedKey, indexName: string, options: { concurrently: boolean }): RawBuilder<unknown> {
  const concurrently = options.concurrently ? sql` concurrently` : sql``;
  const nulls = key.nullsEqual ? sql` nulls not distinct` : sql``;
  return sql`create unique index${concurrently} ${sql.id(indexName)} on ${tableRef(key.table)} (${sql.join(indexElements(key))})${nulls}`;
}

/**
 * A plain (non-unique) index on exactly the key's expressions: what scan
 * --since looks each new key up with, without enforcing anything.
 *
 * @example create index concurrently "leads_device_id_phone_idx" on "public"."leads" ("device_id", "phone")
 */
export function createKeyIndexStatement(key: ResolvedKey, indexName: string, options: { concurrently: boolean }): RawBuilder<unknown> {
  const concurrently = options.concurrently ? sql` concurrently` : sql``;
  return sql`create index${concurrently} ${sql.id(indexName)} on ${tableRef(key.table)} (${sql.join(indexElements(key))})`;
}

/**
 * The partitioned-table procedure (PostgreSQL 11+): CREATE INDEX CONCURRENTLY
 * is refused on a partitioned table, so the index is made on the parent
 * ONLY (invalid, empty), built CONCURRENTLY on each leaf and attached; the
 * parent's index turns valid once every partition has one attached.
 *
 * @example create unique index "leads_niche_phone_key" on only "public"."leads" ("niche", "phone")
 * @example create unique index concurrently "leads_a_niche_phone_key" on "public"."leads_a" ("niche", "phone")
 */
export function createPartitionIndexStatement(
  key: ResolvedKey,
  indexName: string,
  relation: { schema: string; name: string },
  options: { only: boolean; concurrently: boolean },
): RawBuilder<unknown> {
  const concurrently = options.concurrently ? sql` concurrently` : sql``;
  const only = options.only ? sql`only ` : sql``;
  const nulls = key.nullsEqual ? sql` nulls not distinct` : sql``;
  return sql`create unique index${concurrently} ${sql.id(indexName)} on ${only}${sql.id(relation.schema, relation.name)} (${sql.join(indexElements(key))})${nulls}`;
}

/** @example alter index "public"."leads_niche_phone_key" attach partition "public"."leads_a_niche_phone_key" */
export function attachPartitionIndexStatement(schema: string, parentIndex: string, childSchema: string, childIndex: string): RawBuilder<unknown> {
  return sql`alter index ${sql.id(schema, parentIndex)} attach partition ${sql.id(childSchema, childIndex)}`;
}

/**
 * A catalog change only: the index is already built and valid. It still needs
 * an ACCESS EXCLUSIVE lock for a moment, hence the lock_timeout before it.
 *
 * @example alter table "public"."leads" add constraint "leads_device_id_phone_key" unique using index "leads_device_id_phone_key"
 */
export function attachConstraintStatement(table: LeadTable, name: string): RawBuilder<unknown> {
  return sql`alter table ${tableRef(table)} add constraint ${sql.id(name)} unique using index ${sql.id(name)}`;
}

/** Only inside a transaction: SET LOCAL ends with it, so a pooled session keeps its own setting. */
export function setLocalLockTimeoutStatement(timeout: string): RawBuilder<unknown> {
  return sql`set local lock_timeout = ${sql.lit(timeout)}`;
}

/** The session's lock_timeout (a statement that cannot run in a transaction block, such as DROP INDEX CONCURRENTLY, has no SET LOCAL); returns the value it replaced. */
export function setSessionLockTimeoutStatement(timeout: string): RawBuilder<{ previous: string }> {
  return sql`select pg_catalog.current_setting('lock_timeout') as previous, pg_catalog.set_config('lock_timeout', ${timeout}, false)`;
}

/** @example drop index concurrently if exists "public"."leads_device_id_phone_key" */
export function dropIndexStatement(schema: string, name: string, options: { concurrently: boolean }): RawBuilder<unknown> {
  const concurrently = options.concurrently ? sql` concurrently` : sql``;
  return sql`drop index${concurrently} if exists ${sql.id(schema, name)}`;
}

/** Drops the constraint and the index behind it. */
export function dropConstraintStatement(table: LeadTable, name: string): RawBuilder<unknown> {
  return sql`alter table ${tableRef(table)} drop constraint ${sql.id(name)}`;
}

/**
 * PostgreSQL's own naming (`leads_device_id_phone_key`), with the rule after a
 * normalised column (`leads_device_id_phone_e164_key`). Longer than 63 bytes:
 * cut and suffixed with a hash of the full name, so two long keys stay apart
 * and the catalog lookup finds the name PostgreSQL will store.
 */
export function defaultIndexName(key: ResolvedKey): string {
  return indexNameFor(key.table.info.name, key);
}

/** The same naming for a plain key index (`index add`): `leads_device_id_phone_idx`, as PostgreSQL names one. */
export function defaultKeyIndexName(key: ResolvedKey): string {
  return indexNameFor(key.table.info.name, key, 'idx');
}

/** The same naming for a partition's own index: `leads_2026_device_id_phone_key`. */
export function indexNameFor(tableName: string, key: ResolvedKey, suffix: 'key' | 'idx' = 'key'): string {
  const parts = key.columns.map((c) => (c.normalize === null ? c.column : `${c.column}_${c.normalize}`));
  const full = `${tableName}_${parts.join('_')}_${suffix}`;
  if (Buffer.byteLength(full) <= MAX_IDENTIFIER_BYTES) return full;
  const hash = createHash('md5').update(full).digest('hex').slice(0, 8);
  return `${truncateBytes(full, MAX_IDENTIFIER_BYTES - hash.length - 1)}_${hash}`;
}

function truncateBytes(text: string, maxBytes: number): string {
  let result = '';
  for (const char of text) {
    if (Buffer.byteLength(result + char) > maxBytes) break;
    result += char;
  }
  return result;
}
