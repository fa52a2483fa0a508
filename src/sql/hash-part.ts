import { sql, type RawBuilder } from 'kysely';
import type { ResolvedKey } from '../keys/key-definition.js';
import { columnRef } from '../keys/key-sql.js';

/**
 * One part of a key's rows split by a hash of one of its raw columns: part
 * `index` (0-based) of `of`. Rows with equal key values have equal values in
 * that column, so every duplicate group lies in exactly one part, and the
 * parts' groups add up to the whole key's. Scan runs the parts as separate
 * statements on separate connections: the serial hash aggregate that
 * dominates a scan of one key then uses as many cores as there are parts
 * (bench/README.md, B13).
 */
export interface HashPart {
  index: number;
  of: number;
}

/**
 * The raw column the parts are split by: a text one where the key has one
 * (hashtext reads it without a cast), else an integer or uuid one; null when
 * there is none, and the key runs whole. Only types whose equal values have
 * equal text, so the hash of the text cannot part a group: text hashes by
 * the column's collation (hashtext is collation-aware), but numeric (1.0 =
 * 1.00), citext or float (0 = -0) would not. A normalised value is not
 * hashed either: each part would still normalise every row.
 */
export function hashPartColumn(key: ResolvedKey): string | null {
  const raw = key.columns.filter((column) => column.normalize === null).map((column) => column.column);
  const typeOf = (name: string) => key.table.info.columns.find((c) => c.name === name)?.type ?? '';
  return raw.find((name) => TEXT_TYPE.test(typeOf(name))) ?? raw.find((name) => EXACT_TEXT_TYPE.test(typeOf(name))) ?? null;
}

const TEXT_TYPE = /^(text|character varying|character)(\(\d+\))?$/;
const EXACT_TEXT_TYPE = /^(smallint|integer|bigint|uuid)$/;

/**
 * `(hashtext(coalesce("phone"::text, '')) & 2147483647) % 2 = 0`: the mask
 * keeps the hash non-negative, coalesce keeps a NULL (a group with NULLs
 * equal) in a part.
 */
export function hashPartFilter(key: ResolvedKey, part: HashPart): RawBuilder<unknown> {
  const column = hashPartColumn(key);
  if (column === null) throw new Error(`key ${key.name} has no raw column to split by`);
  if (!Number.isInteger(part.of) || part.of < 2 || !Number.isInteger(part.index) || part.index < 0 || part.index >= part.of) {
    throw new Error(`not a hash part: ${part.index} of ${part.of}`);
  }
  return sql`(hashtext(coalesce(${columnRef(column)}::text, '')) & 2147483647) % ${sql.lit(part.of)} = ${sql.lit(part.index)}`;
}
