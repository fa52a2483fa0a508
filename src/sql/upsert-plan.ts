import { sql, type RawBuilder } from 'kysely';
import type { ResolvedKey } from '../keys/key-definition.js';
import { columnRef, tableRef } from '../keys/key-sql.js';
import { indexElements, type ElementForm } from './constraint-plan.js';

export const ON_DUPLICATE = ['skip', 'update'] as const;
export type OnDuplicate = (typeof ON_DUPLICATE)[number];

export interface UpsertPlanOptions {
  onDuplicate: OnDuplicate;
  /** Columns the statement inserts, in table order; parameter $n is the n-th of them. */
  insertColumns: string[];
  /** Columns a duplicate refreshes (update only). */
  updateColumns: string[];
  /** How a normalised column is named in the conflict target (default the rule's short function); ON CONFLICT infers an index built with either. */
  conflictForm?: ElementForm;
}

/**
 * The race-free replacement for the webhook's check-then-insert. The conflict
 * target names the key's columns, or for a normalised key the rule's short
 * function `constraint add` indexes (`lead_dedupe.e164_60_v1("phone")`), so
 * PostgreSQL infers that index as the arbiter.
 *
 * @example skip, device-phone:
 *   insert into "public"."leads" ("device_id", "phone") values ($1, $2)
 *   on conflict ("device_id", "phone") do nothing
 *   returning "id"
 */
export function upsertStatement(key: ResolvedKey, options: UpsertPlanOptions): RawBuilder<unknown> {
  const table = key.table;
  const columns = options.insertColumns.map((column) => columnRef(column));
  // $1..$n are placeholders for the caller's driver, not values: raw text by design.
  const placeholders = options.insertColumns.map((_, index) => sql.raw(`$${index + 1}`));
  const head = sql`insert into ${tableRef(table)} (${sql.join(columns)})
values (${sql.join(placeholders)})
on conflict (${sql.join(indexElements(key, options.conflictForm))})`;
  const id = columnRef(table.idColumn);
  switch (options.onDuplicate) {
    case 'skip':
      return sql`${head} do nothing
returning ${id}`;
    case 'update': {
      const assignments = options.updateColumns.map((column) => sql`${columnRef(column)} = ${sql.id('excluded', column)}`);
      // xmax is 0 on a freshly inserted row version and set on one written by the DO UPDATE branch.
      return sql`${head} do update set ${sql.join(assignments)}
returning ${id}, (xmax = 0) as inserted`;
    }
    default:
      return options.onDuplicate satisfies never;
  }
}
