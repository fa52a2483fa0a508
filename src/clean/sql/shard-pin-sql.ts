import { sql, type RawBuilder } from 'kysely';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { columnRef } from '../../keys/key-sql.js';
import type { BatchScope, ChildReference } from '../model.js';
import { TEMP } from './temp-tables-sql.js';

/**
 * Batches confined to one shard of a Citus distributed table. When the key
 * holds the distribution column as it is, every group lies in one shard; the
 * stage then orders groups by shard, so no batch spans two. Each statement
 * of such a batch filters the leads (and the co-located child rows) on the
 * batch's distribution values, `… = any($1)`, which lets Citus route it to
 * that one shard as a router query: the batch's session tables go to one
 * worker instead of all of them, one task runs instead of one per shard, and
 * FOR UPDATE is allowed, so the batch locks and re-reads its rows in one
 * statement as on a single server. The filter never drops a batch row: every
 * row of a group, and every child row pointing at one, carries one of the
 * batch's values.
 */
export interface ShardPin {
  /** The leads' distribution column. */
  column: string;
  /** The batch's distribution values, as text (PostgreSQL reads them as the column's type). */
  values: string[];
  /** Whether the batch holds a chunk of a group too large for one batch. */
  holdsChunks: boolean;
}

/** A batch not pinned to a shard: its statements add no filter. */
export const WHOLE_BATCH: BatchScope = { leads: () => sql``, child: () => sql``, mayHoldChunks: true };

/** A batch pinned to its shard: every statement filtered on the batch's distribution values. */
export function pinnedScope(pin: ShardPin): BatchScope {
  const filter = (column: string, alias: string) => sql` and ${columnRef(column, alias)} = any(${pin.values})`;
  return {
    leads: (alias) => filter(pin.column, alias),
    child: (reference, alias) => {
      const column = childPinColumn(reference, pin);
      return column === null ? sql`` : filter(column, alias);
    },
    mayHoldChunks: pin.holdsChunks,
  };
}

/**
 * The shard holding a group, from its value of the distribution column
 * (`value`). The table is named, not given by oid: Citus may evaluate this
 * on a worker, where the table has another oid (Citus 13 keeps its metadata
 * on every node).
 */
export function shardOf(key: ResolvedKey, value: RawBuilder<unknown>): RawBuilder<unknown> {
  const { schema, name } = key.table.info;
  return sql`pg_catalog.get_shard_id_for_distribution_column((pg_catalog.quote_ident(${schema}) || '.' || pg_catalog.quote_ident(${name}))::regclass, ${value})`;
}

/** One batch's distribution values (ld_stage.pin_value), and whether it holds a chunk of a large group, read from the stage. */
export function batchPinValuesQuery(batch: number): RawBuilder<{ pin_values: string[] | null; holds_chunks: boolean | null }> {
  return sql`select array_agg(distinct pin_value) as pin_values, bool_or(chunked) as holds_chunks from ${TEMP.stage} where batch_no = ${sql.lit(batch)}`;
}

/** A co-located child's column holding the leads' distribution value (its distribution column, paired with the leads' in the foreign key); null when it has none. */
function childPinColumn(reference: ChildReference, pin: ShardPin): string | null {
  if (reference.distributionColumn === null) return null;
  const paired = reference.shared.some((pair) => pair.child === reference.distributionColumn && pair.parent === pin.column);
  const copied = reference.copied.some((pair) => pair.child === reference.distributionColumn);
  return paired && !copied ? reference.distributionColumn : null;
}
