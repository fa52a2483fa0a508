import { findColumn } from '../db/catalog.js';
import type { LeadTable } from './key-definition.js';

/**
 * What "oldest first" inside a group rests on: the created column, else the
 * id, whose order means age only when it grows with time (a serial or
 * identity integer). A uuid or text id without a created column orders the
 * rows, but arbitrarily: the "oldest" row is a coin toss.
 */
export interface RowOrder {
  /** The column that ranks rows by age (the created column, else the id). */
  column: string;
  /** true: the order says nothing about age (no created column, and an id of a type like uuid or text). */
  arbitrary: boolean;
  /** Why it is arbitrary, e.g. "no created_at column, and id is uuid"; null when it is not. */
  reason: string | null;
}

/** Types whose values grow with insertion order when a sequence or the clock assigns them. */
const ORDERED_ID_TYPES = /^(smallint|integer|bigint|numeric|timestamp|date)\b/;

export function rowOrder(table: LeadTable): RowOrder {
  if (table.createdColumn !== null) return { column: table.createdColumn, arbitrary: false, reason: null };
  const type = findColumn(table.info, table.idColumn)?.type ?? 'unknown';
  if (ORDERED_ID_TYPES.test(type)) return { column: table.idColumn, arbitrary: false, reason: null };
  return { column: table.idColumn, arbitrary: true, reason: `${table.createdFallback ?? 'no created column'}, and ${table.idColumn} is ${type}` };
}
